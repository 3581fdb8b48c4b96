/**
 * gcp-compute through the real @google-cloud/compute SDK against the fake Compute Engine:
 * lifecycle, canary and promotion, drain, archive with routing release, drift, rounding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/gcp-compute.js';
import type { Deployer } from '../../src/model/deployer.js';
import { labelValue, revisionNames } from '../../src/deployers/gcp-compute/names.js';
import { fromPerMille, toPerMille } from '../../src/deployers/gcp-compute/weights.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import {
  environment,
  fakeConfig,
  globalScope,
  opts,
  PROJECT,
  revision,
  startFake,
  ZONE,
  zoneScope,
} from './gcp-compute-fixtures.js';
import { takeDown } from '../helpers/take-down.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };
let fake: FakeGce;
let deployer: Deployer;

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 60, healthyAfterMs: 120, repairDelayMs: 2500 } });
  deployer = await plugin.create(fakeConfig(fake), { logger, stateDir: '/nonexistent' });
});
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

const names = (kind: string, scope = globalScope) =>
  fake
    .list(scope, kind)
    .map((r) => r.name)
    .sort();

describe('gcp-compute lifecycle against the fake Compute Engine', () => {
  it('stages, warms, splits, promotes, drains and archives, releasing the routing last', async () => {
    const v1 = revision('Web.v1');
    const v2 = revision('Web.v2', { drain_seconds: 1 });
    const n1 = revisionNames('gcp-test', 'Web.v1');
    const n2 = revisionNames('gcp-test', 'Web.v2');
    let env = environment([
      {
        id: 'web',
        revisions: [v1, v2],
        listen: '0.0.0.0:8080',
        traffic: [{ revision_id: 'Web.v1', weight_bps: 10000 }],
      },
    ]);

    const staged = await deployer.stageRevision(env, 'Web.v1', opts());
    expect(staged.outputs).toMatchObject({ machine_type: 'e2-small', instance_template: n1.template });
    const template = fake.store.get(`${globalScope}/instanceTemplates/${n1.template}`)!;
    const props = template.properties as {
      labels: Record<string, string>;
      metadata: { items: Array<{ key: string; value: string }> };
    };
    expect(props.labels).toMatchObject({
      'bp-environment': labelValue('gcp-test'),
      'bp-deployment': labelValue('web'),
      'bp-revision': labelValue('Web.v1'),
    });
    // A startup-script runs the image with Docker; no container declaration (konlet is deprecated).
    expect(props.metadata.items.map((i) => i.key)).not.toContain('gce-container-declaration');
    const script = props.metadata.items.find((i) => i.key === 'startup-script')!.value;
    expect(script).toContain("-p 8080:8080 'us-docker.pkg.dev/bp-test/app/web:1'");
    expect(script).toContain('PORT=8080');

    const warmed = await deployer.warmRevision(env, 'Web.v1', opts());
    expect(warmed.endpoint).toMatch(/^http:\/\/10\.128\.\d+\.\d+:8080$/);
    expect(fake.list(zoneScope, 'instances').filter((i) => i.status === 'RUNNING')).toHaveLength(2);
    const bs1 = fake.store.get(`${globalScope}/backendServices/${n1.backendService}`)!;
    expect(bs1.connectionDraining).toEqual({ drainingTimeoutSec: 1 });
    expect(bs1.loadBalancingScheme).toBe('EXTERNAL_MANAGED');

    await deployer.applyTrafficSplit(env, 'web', opts());
    expect(names('forwardingRules')).toHaveLength(1);
    expect(fake.list(globalScope, 'forwardingRules')[0].portRange).toBe('8080');

    await deployer.warmRevision(env, 'Web.v2', opts());
    env = environment([
      {
        id: 'web',
        revisions: [v1, v2],
        traffic: [
          { revision_id: 'Web.v1', weight_bps: 9000 },
          { revision_id: 'Web.v2', weight_bps: 1000 },
        ],
      },
    ]);
    await deployer.applyTrafficSplit(env, 'web', opts());
    const map = fake.list(globalScope, 'urlMaps')[0] as unknown as {
      defaultRouteAction: { weightedBackendServices: Array<{ weight: number }> };
    };
    expect(map.defaultRouteAction.weightedBackendServices.map((w) => w.weight)).toEqual([900, 100]);
    let seen = await deployer.observe(env, opts());
    expect(seen.splits.web).toEqual(env.deployments[0].traffic);
    expect(seen.revisions['Web.v2']).toEqual({ present: true, healthy: true });

    env = environment([
      {
        id: 'web',
        revisions: [v1, v2],
        traffic: [
          { revision_id: 'Web.v1', weight_bps: 0 },
          { revision_id: 'Web.v2', weight_bps: 10000 },
        ],
      },
    ]);
    await deployer.applyTrafficSplit(env, 'web', opts());

    const t0 = Date.now();
    await deployer.drainRevision(env, 'Web.v1', opts());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(fake.store.get(`${globalScope}/backendServices/${n1.backendService}`)!.backends ?? []).toEqual([]);
    expect(fake.store.get(`${zoneScope}/instanceGroupManagers/${n1.group}`)!.targetSize).toBe(0);
    const t1 = Date.now();
    await deployer.drainRevision(env, 'Web.v1', opts());
    expect(Date.now() - t1).toBeLessThan(1000);

    await deployer.archiveRevision(env, 'Web.v1', opts());
    expect(names('backendServices')).toEqual([n2.backendService]);
    expect(names('instanceTemplates')).toEqual([n2.template]);
    seen = await deployer.observe(env, opts());
    expect(seen.revisions['Web.v1']).toEqual({ present: false, healthy: false });
    expect(seen.splits.web).toEqual([{ revision_id: 'Web.v2', weight_bps: 10000 }]);

    // Archive alone never deletes the URL map: the map's last backend is refused, changing nothing.
    await expect(deployer.archiveRevision(env, 'Web.v2', opts())).rejects.toMatchObject({ code: 'RoutingNotReleased' });
    expect(names('backendServices')).toEqual([n2.backendService]);
    await takeDown(deployer, env);
    for (const kind of [
      'urlMaps',
      'targetHttpProxies',
      'forwardingRules',
      'backendServices',
      'healthChecks',
      'instanceTemplates',
    ]) {
      expect(names(kind), kind).toEqual([]);
    }
    expect(names('instances', zoneScope)).toEqual([]);
    expect(await deployer.observe(env, opts())).toEqual({
      revisions: { 'Web.v1': { present: false, healthy: false }, 'Web.v2': { present: false, healthy: false } },
      splits: {},
    });

    // Every mutation carried a requestId, and every operation was followed to DONE.
    const mutations = fake.journal.filter(
      (j) =>
        j.method !== 'GET' &&
        !j.path.endsWith('/wait') &&
        !j.path.endsWith('/getHealth') &&
        j.path.startsWith('/compute'),
    );
    expect(mutations.length).toBeGreaterThan(20);
    expect(mutations.every((j) => j.requestId !== null)).toBe(true);
    expect([...fake.store.operations.values()].every((o) => o.op.status === 'DONE')).toBe(true);
  });

  it('sees an instance deleted outside bp as drift, and a second warm waits for the group to repair it', async () => {
    const v = revision('drift-v1', { resources: { cpu: 1, memory_mb: 1024, replicas: 2, gpu: 0 } });
    const env = environment([{ id: 'drift', revisions: [v] }]);
    await deployer.warmRevision(env, 'drift-v1', opts());
    const group = revisionNames('gcp-test', 'drift-v1').group;
    const victim = fake.list(zoneScope, 'instances').find((i) => i.name.startsWith(group.replace(/-ig$/, '')))!;

    // Deleted with the real SDK, as an operator's script or the console would.
    const { InstancesClient, ZoneOperationsClient } = await import('@google-cloud/compute/build/src/v1/index.js');
    const clientOpts = {
      apiEndpoint: '127.0.0.1',
      port: fake.port,
      protocol: 'http',
      fallback: true,
      projectId: PROJECT,
    };
    const [op] = await new InstancesClient(clientOpts).delete({ project: PROJECT, zone: ZONE, instance: victim.name });
    await new ZoneOperationsClient(clientOpts).wait({
      project: PROJECT,
      zone: ZONE,
      operation: String(op.latestResponse?.name),
    });

    expect((await deployer.observe(env, opts())).revisions['drift-v1']).toEqual({ present: true, healthy: false });
    await deployer.warmRevision(env, 'drift-v1', opts());
    expect((await deployer.observe(env, opts())).revisions['drift-v1']).toEqual({ present: true, healthy: true });

    fake.terminateInstance(
      PROJECT,
      ZONE,
      fake.list(zoneScope, 'instances').find((i) => i.name.startsWith(group.replace(/-ig$/, '')))!.name,
    );
    expect((await deployer.observe(env, opts())).revisions['drift-v1'].healthy).toBe(false);
    await deployer.warmRevision(env, 'drift-v1', opts());
    expect((await deployer.observe(env, opts())).revisions['drift-v1'].healthy).toBe(true);
    await takeDown(deployer, env);
  });

  it('reports the split the URL map enforces (per mille), and rescaled wire weights after a change outside bp', async () => {
    const revs = ['r-a', 'r-b', 'r-c'].map((id) =>
      revision(id, { resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 } }),
    );
    const traffic = [
      { revision_id: 'r-a', weight_bps: 3333 },
      { revision_id: 'r-b', weight_bps: 3333 },
      { revision_id: 'r-c', weight_bps: 3334 },
    ];
    const env = environment([{ id: 'thirds', revisions: revs, traffic }]);
    await Promise.all(revs.map((r) => deployer.warmRevision(env, r.revision_id, opts())));
    const applied = await deployer.applyTrafficSplit(env, 'thirds', opts());
    const enforced = [
      { revision_id: 'r-a', weight_bps: 3330 },
      { revision_id: 'r-b', weight_bps: 3330 },
      { revision_id: 'r-c', weight_bps: 3340 },
    ];
    expect(applied.applied_entries).toEqual(enforced);
    expect((await deployer.observe(env, opts())).splits.thirds).toEqual(enforced);

    const map = fake.list(globalScope, 'urlMaps').find((m) => String(m.description).includes('"thirds"'))!;
    (
      map.defaultRouteAction as { weightedBackendServices: Array<{ weight: number }> }
    ).weightedBackendServices[0].weight = 500;
    const drifted = (await deployer.observe(env, opts())).splits.thirds;
    expect(drifted.map((e) => e.weight_bps)).toEqual(fromPerMille([500, 333, 334]));
    await deployer.applyTrafficSplit(env, 'thirds', opts());
    expect((await deployer.observe(env, opts())).splits.thirds).toEqual(enforced);
    await takeDown(deployer, env);
    expect(fake.list(globalScope, 'urlMaps').filter((m) => String(m.description).includes('"thirds"'))).toEqual([]);
  });
});

describe('basis points to URL-map weights', () => {
  it('rounds by largest remainder to a sum of 1000 and never drops a revision with weight', () => {
    expect(
      toPerMille([
        { revision_id: 'a', weight_bps: 3333 },
        { revision_id: 'b', weight_bps: 3333 },
        { revision_id: 'c', weight_bps: 3334 },
      ]),
    ).toEqual([333, 333, 334]);
    expect(
      toPerMille([
        { revision_id: 'a', weight_bps: 9996 },
        { revision_id: 'b', weight_bps: 4 },
      ]),
    ).toEqual([999, 1]);
    expect(
      toPerMille([
        { revision_id: 'a', weight_bps: 0 },
        { revision_id: 'b', weight_bps: 10000 },
      ]),
    ).toEqual([0, 1000]);
    expect(fromPerMille([900, 100])).toEqual([9000, 1000]);
    expect(fromPerMille([1, 1, 1])).toEqual([3334, 3333, 3333]);
  });
});
