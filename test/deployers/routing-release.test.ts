/**
 * Routing is released in one place (docs/design.md#traffic-rules), for each cloud deployer
 * against its fake: taking a deployment down whose last routed revision has a sibling that was
 * staged but never warmed releases the routing exactly once, through the engine's archive path
 * (src/apply/archive.ts), and no archive deletes routing (counted in the fake's journal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import awsPlugin from '../../src/deployers/aws-ec2.js';
import azurePlugin from '../../src/deployers/azure-vm.js';
import gcpPlugin from '../../src/deployers/gcp-compute.js';
import k8sPlugin from '../../src/deployers/k8s.js';
import type { Deployer, DeployerEnvironment, DeployerRevision } from '../../src/model/deployer.js';
import { fakeAwsForSuite, fakeConfig as awsConfig } from '../fakes/aws/setup.js';
import { environment as awsEnvironment } from '../fakes/aws/env.js';
import type { FakeAws } from '../fakes/aws/server.js';
import { writeKubeconfig } from '../fakes/kube-apiserver/kubeconfig.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';
import { takeDown, tracedDeployer, type VerbSpan } from '../helpers/take-down.js';
import * as azure from './azure-vm-fixtures.js';
import * as gcp from './gcp-compute-fixtures.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const opts = () => ({ signal: new AbortController().signal });
const one = { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 };

interface Case {
  deployer: Deployer;
  env: DeployerEnvironment;
  /** The fake's journal length, and its routing deletes between two lengths (one label each). */
  mark: () => number;
  routingDeletes: (from: number, to: number) => string[];
  /** Whether the provider still holds the deployment's routing. */
  routingExists: () => boolean;
}

/**
 * Warms `w1`, gives it all of `web`'s traffic, stages `w2` (never warmed), then takes `web`
 * down the way bp does, archiving the routed revision first.
 */
async function stagedSiblingCase(c: Case): Promise<void> {
  const [w1, w2] = c.env.deployments[0].revisions.map((r) => r.revision_id);
  await c.deployer.stageRevision(c.env, w1, opts());
  await c.deployer.warmRevision(c.env, w1, opts());
  await c.deployer.applyTrafficSplit(c.env, 'web', opts());
  await c.deployer.stageRevision(c.env, w2, opts());
  expect(c.routingExists()).toBe(true);
  const [r1, r2] = c.env.deployments[0].revisions;
  r1.lifecycle = 'ready';
  r2.lifecycle = 'staged';

  const spans: VerbSpan[] = [];
  await takeDown(tracedDeployer(c.deployer, c.mark, spans), c.env);
  expect(spans.map((s) => `${s.verb} ${s.target}`)).toEqual(['release web', `archive ${w1}`, `archive ${w2}`]);
  const deletesIn = (verb: VerbSpan['verb']) =>
    spans.filter((s) => s.verb === verb).flatMap((s) => c.routingDeletes(s.from, s.to));
  expect(deletesIn('archive')).toEqual([]);
  expect(deletesIn('release').length).toBeGreaterThan(0);
  // Each routing resource deleted once: the release ran once.
  expect(new Set(deletesIn('release')).size).toBe(deletesIn('release').length);
  expect(c.routingExists()).toBe(false);
  const seen = await c.deployer.observe(c.env, opts());
  expect(seen.splits.web).toBeUndefined();
  expect(seen.revisions[w1]).toEqual({ present: false, healthy: false });
  expect(seen.revisions[w2]).toEqual({ present: false, healthy: false });
}

/** A fake started and a deployer created for the describe's tests, both closed afterwards. */
function suite<F extends { close(): Promise<unknown> }>(
  start: () => Promise<F>,
  create: (fake: F) => Deployer | Promise<Deployer>,
): { fake: F; deployer: Deployer } {
  const s = {} as { fake: F; deployer: Deployer };
  beforeAll(async () => {
    s.fake = await start();
    s.deployer = await create(s.fake);
  });
  afterAll(async () => {
    await s.deployer?.close?.();
    await s.fake?.close();
  });
  return s;
}

/** Runs `test` with an aws-ec2 deployer on the fake, closed afterwards. */
async function withAws(fake: FakeAws, test: (deployer: Deployer) => Promise<void>): Promise<void> {
  const deployer = await awsPlugin.create(awsConfig(fake), { logger: quiet, stateDir: '/nonexistent' });
  try {
    await test(deployer);
  } finally {
    await deployer.close?.();
  }
}

describe('gcp-compute: the staged-sibling case', () => {
  const s = suite(
    () => gcp.startFake({ opDelayMs: 5, timings: { bootMs: 30, healthyAfterMs: 60 } }),
    (fake) => gcpPlugin.create(gcp.fakeConfig(fake), { logger: quiet, stateDir: '/nonexistent' }),
  );

  it('releases the URL map, proxy and forwarding rule once; archive deletes none of them', async () => {
    const revisions = ['rr-w1', 'rr-w2'].map((id) => gcp.revision(id, { resources: one }));
    const env = gcp.environment([
      { id: 'web', revisions, traffic: [{ revision_id: 'rr-w1', weight_bps: 10000 }], listen: '0.0.0.0:8080' },
    ]);
    const routing = /\/global\/(urlMaps|targetHttpProxies|forwardingRules)\/[^/]+$/;
    await stagedSiblingCase({
      deployer: s.deployer,
      env,
      mark: () => s.fake.journal.length,
      routingDeletes: (from, to) =>
        s.fake.journal
          .slice(from, to)
          .filter((j) => j.method === 'DELETE' && routing.test(j.path))
          .map((j) => j.path),
      routingExists: () => s.fake.list(gcp.globalScope, 'urlMaps').some((m) => String(m.description).includes('"web"')),
    });
  });
});

describe('aws-ec2: the staged-sibling case', () => {
  const { fake } = fakeAwsForSuite();

  it('deletes the listener rule once, in the release; archive deletes no rule', async () => {
    const revisions = ['rr-w1', 'rr-w2'].map((id) => gcp.revision(id, { resources: one }));
    const env = awsEnvironment('rr', [
      { id: 'web', revisions, traffic: [{ revision_id: 'rr-w1', weight_bps: 10000 }] },
    ]);
    await withAws(fake(), (deployer) =>
      stagedSiblingCase({
        deployer,
        env,
        mark: () => fake().journal.length,
        routingDeletes: (from, to) =>
          fake()
            .journal.slice(from, to)
            .filter((j) => j.action === 'DeleteRule' || j.action === 'ModifyRule')
            .map((j) => `${j.action} ${String(j.params.RuleArn)}`),
        routingExists: () => [...fake().elbv2.rules.values()].some((r) => r.tags['bp:environment'] === 'rr'),
      }),
    );
  });
});

describe('aws-ec2: a rule that only health-checks', () => {
  const { fake } = fakeAwsForSuite();

  it('archiving its last (weight 0) group parks the rule on a 503 instead of deleting it; a warm takes it back', async () => {
    // rp-w1 was warmed (attached at weight 0) but never given traffic; rp-w2 replaces it.
    const revisions = ['rp-w1', 'rp-w2'].map((id) => gcp.revision(id, { resources: one }));
    revisions[0].state = 'archived';
    const env = awsEnvironment('rp', [
      { id: 'web', revisions, traffic: [{ revision_id: 'rp-w2', weight_bps: 10000 }] },
    ]);
    const rule = () => [...fake().elbv2.rules.values()].find((r) => r.tags['bp:environment'] === 'rp');
    await withAws(fake(), async (deployer) => {
      await deployer.warmRevision(env, 'rp-w1', opts());
      const mark = fake().journal.length;
      await deployer.archiveRevision(env, 'rp-w1', opts());
      expect(
        fake()
          .journal.slice(mark)
          .filter((j) => j.action === 'DeleteRule'),
      ).toEqual([]);
      expect(rule()!.actions).toEqual([expect.objectContaining({ Type: 'fixed-response' })]);
      expect((await deployer.observe(env, opts())).splits).toEqual({});
      await deployer.warmRevision(env, 'rp-w2', opts());
      expect(fake().elbv2.forwardTargets(rule()!)).toHaveLength(1);
      await takeDown(deployer, env);
      expect(rule()).toBeUndefined();
    });
  });
});

describe('azure-vm: the staged-sibling case', () => {
  const s = suite(
    () => azure.startFake({ opDelayMs: 5, timings: { bootMs: 30, healthyAfterMs: 50 } }),
    (fake) => azurePlugin.create(azure.fakeConfig(fake), { logger: quiet, stateDir: '/nonexistent' }),
  );

  it('deletes the Traffic Manager profile once, in the release; archive deletes no profile', async () => {
    const revisions = ['rr-w1', 'rr-w2'].map((id) => azure.revision(id, { resources: one }));
    const env = azure.environment([{ id: 'web', revisions, traffic: azure.split(['rr-w1', 10000]) }], 'rr');
    await stagedSiblingCase({
      deployer: s.deployer,
      env,
      mark: () => s.fake.journal.length,
      routingDeletes: (from, to) =>
        s.fake.journal
          .slice(from, to)
          .filter((j) => j.method === 'DELETE' && /trafficmanagerprofiles\//i.test(j.path))
          .map((j) => j.path),
      routingExists: () =>
        s.fake.store
          .list('Microsoft.Network/trafficManagerProfiles', s.fake.groupId)
          .some((p) => p.tags?.['bp-environment'] === 'rr'),
    });
  });
});

describe.each(['gateway-api', 'replicas'] as const)('k8s (%s mode): the staged-sibling case', (traffic) => {
  let kube: FakeKube;
  let deployer: Deployer;
  const envId = `rr-${traffic[0]}`;
  const route = traffic === 'gateway-api' ? `/httproutes/${envId}-web` : `/services/${envId}-web`;
  beforeAll(async () => {
    kube = await startFakeKubeApiServer({ readyDelayMs: 20, tickMs: 10 });
    deployer = await k8sPlugin.create(
      {
        kubeconfig: writeKubeconfig(kube.url),
        namespace: 'default',
        poll_interval_ms: 10,
        traffic,
        gateway: { name: 'public' },
      },
      { logger: quiet, stateDir: '/tmp' },
    );
  });
  afterAll(() => kube?.close());

  it('deletes the routing object once, in the release; archive deletes none', async () => {
    const revisions: DeployerRevision[] = ['w1', 'w2'].map((id) =>
      gcp.revision(id, { resources: one, drain_seconds: 0 }),
    );
    const env = gcp.environment([{ id: 'web', revisions, traffic: [{ revision_id: 'w1', weight_bps: 10000 }] }], envId);
    await stagedSiblingCase({
      deployer,
      env,
      mark: () => kube.journal.entries.length,
      routingDeletes: (from, to) =>
        kube.journal.entries
          .slice(from, to)
          .filter((j) => j.method === 'DELETE' && j.path.endsWith(route))
          .map((j) => j.path),
      routingExists: () =>
        (traffic === 'gateway-api'
          ? kube.object('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', `${envId}-web`)
          : kube.object('v1', 'Service', 'default', `${envId}-web`)) !== undefined,
    });
  });
});
