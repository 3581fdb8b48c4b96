/**
 * The k8s deployer through the real @kubernetes/client-node against the fake kube-apiserver
 * over HTTP: what it writes, both traffic modes, promotion, drain, archive, drift, failing
 * rollouts and throttling.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import k8sPlugin from '../../src/deployers/k8s.js';
import type { Deployer, DeployerEnvironment, DeployerRevision } from '../../src/model/deployer.js';
import { ENVIRONMENT_SCHEMA } from '../../src/model/environment.js';
import { writeKubeconfig } from '../fakes/kube-apiserver/kubeconfig.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';
import { takeDown } from '../helpers/take-down.js';

type Obj = Record<string, any>;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const opts = () => ({ signal: new AbortController().signal });
let kube: FakeKube;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startFakeKubeApiServer({
    readyDelayMs: 30,
    failures: [
      { image: /\.invalid\//, reason: 'ImagePullBackOff' },
      { image: /crashy/, reason: 'CrashLoopBackOff' },
    ],
  });
  kubeconfig = writeKubeconfig(kube.url);
});
afterAll(() => kube?.close());
beforeEach(() => {
  kube.faults.clear();
  kube.journal.clear();
});

function rev(id: string, over: Partial<DeployerRevision> = {}): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image: `registry.example/web:${id}`, env: { GREETING: 'hi' } },
    resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 30 },
    drain_seconds: 0,
    ttl: null,
    state: 'ready',
    lifecycle: 'inactive',
    outputs: {},
    endpoint: null,
    ...over,
  };
}

function envWith(envId: string, deploymentId: string, revisions: DeployerRevision[]): DeployerEnvironment {
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: envId,
    deployers: { k: { type: 'k8s', config: {} } },
    deployments: [{ deployment_id: deploymentId, deployer: 'k', listen: null, revisions, traffic: [] }],
    notifications: [],
    base_dir: '/',
  };
}

function setTraffic(env: DeployerEnvironment, pairs: Array<[string, number]>): DeployerEnvironment {
  env.deployments[0].traffic = pairs.map(([revision_id, weight_bps]) => ({ revision_id, weight_bps }));
  return env;
}

async function deployer(config: Obj = {}): Promise<Deployer> {
  return k8sPlugin.create(
    { kubeconfig, namespace: 'default', poll_interval_ms: 20, ...config },
    { logger: quiet, stateDir: '/tmp' },
  );
}

const deploymentObj = (name: string) => kube.object('apps/v1', 'Deployment', 'default', name) as Obj | undefined;
const replicasOf = (name: string) => deploymentObj(name)?.spec.replicas;

describe('warm', () => {
  it('server-side applies a Deployment, Service and HPA built from the revision, and waits for availability', async () => {
    const d = await deployer();
    const env = envWith('e1', 'web', [
      rev('w1-v1', {
        drain_seconds: 7,
        health: { http_path: '/healthz', timeout_seconds: 2.5 },
        resources: { cpu: 0.5, memory_mb: 256, replicas: 2, gpu: 0 },
      }),
    ]);
    await d.stageRevision(env, 'w1-v1', opts());
    const out = await d.warmRevision(env, 'w1-v1', opts());
    expect(out.endpoint).toBe('http://e1-w1-v1.default.svc.cluster.local:80');

    const dep = deploymentObj('e1-w1-v1')!;
    expect(dep.metadata.labels).toMatchObject({
      'bp.dev/environment': 'e1',
      'bp.dev/deployment': 'web',
      'bp.dev/revision': 'w1-v1',
      'app.kubernetes.io/managed-by': 'bp',
    });
    expect(dep.spec.replicas).toBe(2);
    expect(dep.status.availableReplicas).toBe(2);
    const pod = dep.spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(7);
    expect(pod.containers[0]).toMatchObject({
      image: 'registry.example/web:w1-v1',
      resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '256Mi' } },
      // 2.5 s rounds up to the whole seconds the API's int32 field takes.
      readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, timeoutSeconds: 3 },
    });
    expect(pod.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'GREETING', valueFrom: { secretKeyRef: { name: 'e1-w1-v1', key: 'GREETING' } } },
        { name: 'PORT', value: '8080' },
      ]),
    );
    expect((kube.object('v1', 'Service', 'default', 'e1-w1-v1') as Obj).spec.selector).toEqual(
      dep.spec.selector.matchLabels,
    );
    // Every write was a server-side apply by field manager bp.
    const writes = kube.journal.entries.filter((e) => e.method !== 'GET');
    expect(writes.length).toBeGreaterThan(0);
    expect(
      writes.every(
        (e) =>
          e.method === 'PATCH' && e.contentType === 'application/apply-patch+yaml' && e.query.fieldManager === 'bp',
      ),
    ).toBe(true);
    expect(dep.metadata.managedFields.map((m: Obj) => m.manager)).toEqual(['bp']);

    // Idempotent: a second warm writes nothing new.
    const rv = dep.metadata.resourceVersion;
    await d.warmRevision(env, 'w1-v1', opts());
    expect(deploymentObj('e1-w1-v1')!.metadata.resourceVersion).toBe(rv);
    await d.archiveRevision(env, 'w1-v1', opts());
  });

  it('fails a rollout whose image cannot be pulled with the pod reason, not retryable', async () => {
    const d = await deployer();
    const env = envWith('e2', 'web', [rev('w2-bad', { artifact: { image: 'nowhere.invalid/app:1', env: {} } })]);
    const err = await d.warmRevision(env, 'w2-bad', opts()).then(
      () => null,
      (e: Obj) => e,
    );
    expect(err).toMatchObject({ code: 'Provider', retryable: false });
    expect(err?.message).toMatch(/ImagePullBackOff.*Back-off pulling image "nowhere.invalid\/app:1"/);
    await d.archiveRevision(env, 'w2-bad', opts());
  });

  it('fails a crash-looping revision, and one still not ready at the timeout is retryable', async () => {
    const d = await deployer();
    const env = envWith('e3', 'web', [rev('w3-crash', { artifact: { image: 'crashy:1', env: {} } })]);
    await expect(d.warmRevision(env, 'w3-crash', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
      message: expect.stringMatching(/CrashLoopBackOff/),
    });
    kube.controller.options.readyDelayMs = 60_000;
    try {
      const slow = await deployer({ rollout_timeout_seconds: 1 });
      const env2 = envWith('e3', 'web', [rev('w3-slow')]);
      await expect(slow.warmRevision(env2, 'w3-slow', opts())).rejects.toMatchObject({
        code: 'Provider',
        retryable: true,
        message: expect.stringMatching(/not ready within 1 s.*ContainerCreating/s),
      });
      await slow.archiveRevision(env2, 'w3-slow', opts());
    } finally {
      kube.controller.options.readyDelayMs = 30;
    }
    await d.archiveRevision(env, 'w3-crash', opts());
  });

  it('honours an abort mid-rollout', async () => {
    kube.controller.options.readyDelayMs = 60_000;
    const d = await deployer();
    const env = envWith('e4', 'web', [rev('w4-v1')]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    try {
      await expect(d.warmRevision(env, 'w4-v1', { signal: ac.signal })).rejects.toMatchObject({ code: 'Aborted' });
    } finally {
      kube.controller.options.readyDelayMs = 30;
    }
    await d.archiveRevision(env, 'w4-v1', opts());
  });

  it('refuses artifacts that are not images before calling the cluster', async () => {
    const d = await deployer();
    const env = envWith('e5', 'web', [rev('w5', { artifact: { command: ['node', 'x.js'], env: {} } })]);
    await expect(d.warmRevision(env, 'w5', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
      message: expect.stringMatching(/artifact\.image/),
    });
    expect(kube.journal.entries).toEqual([]);
  });
});

describe('replicas traffic mode', () => {
  it('canaries by replica proportions behind one stable Service, promotes, drains and archives', async () => {
    const d = await deployer();
    const env = envWith('r1', 'shop', [
      rev('s-v1', { resources: { cpu: 0.1, memory_mb: 64, replicas: 4, gpu: 0 } }),
      rev('s-v2', { drain_seconds: 1 }),
    ]);
    await d.warmRevision(env, 's-v1', opts());
    await d.applyTrafficSplit(setTraffic(env, [['s-v1', 10000]]), 'shop', opts());
    const stable = () => kube.object('v1', 'Service', 'default', 'r1-shop') as Obj;
    expect(stable().spec.selector).toMatchObject({ 'bp.dev/revision': 's-v1' });

    // A warm revision outside a one-revision split is not selected.
    await d.warmRevision(env, 's-v2', opts());
    expect(replicasOf('r1-s-v2')).toBe(1);
    expect(stable().spec.selector['bp.dev/revision']).toBe('s-v1');

    // 75/25 over a pool of 4 pods: 3 + 1, both selected.
    await d.applyTrafficSplit(
      setTraffic(env, [
        ['s-v1', 7500],
        ['s-v2', 2500],
      ]),
      'shop',
      opts(),
    );
    expect([replicasOf('r1-s-v1'), replicasOf('r1-s-v2')]).toEqual([3, 1]);
    expect(stable().spec.selector['bp.dev/revision']).toBeUndefined();
    let seen = await d.observe(env, opts());
    expect(seen.splits.shop).toEqual([
      { revision_id: 's-v1', weight_bps: 7500 },
      { revision_id: 's-v2', weight_bps: 2500 },
    ]);
    expect(seen.revisions['s-v2']).toEqual({ present: true, healthy: true });

    // Promote: v2 alone, at its own declared capacity (1); v1 stops being selected.
    await d.applyTrafficSplit(
      setTraffic(env, [
        ['s-v1', 0],
        ['s-v2', 10000],
      ]),
      'shop',
      opts(),
    );
    expect(replicasOf('r1-s-v2')).toBe(1);
    expect(stable().spec.selector['bp.dev/revision']).toBe('s-v2');

    const started = Date.now();
    await d.drainRevision(env, 's-v1', opts());
    expect(replicasOf('r1-s-v1')).toBe(0);
    seen = await d.observe(env, opts());
    expect(seen.revisions['s-v1']).toEqual({ present: true, healthy: false });

    await d.archiveRevision(env, 's-v1', opts());
    await d.archiveRevision(env, 's-v1', opts());
    expect(deploymentObj('r1-s-v1')).toBeUndefined();
    expect(kube.object('v1', 'Service', 'default', 'r1-s-v1')).toBeUndefined();
    seen = await d.observe(env, opts());
    expect(seen.revisions['s-v1']).toEqual({ present: false, healthy: false });
    expect(seen.splits.shop).toEqual([{ revision_id: 's-v2', weight_bps: 10000 }]);

    // Taking the deployment down: drain and archive leave the stable Service to bp's release
    // (archive alone refuses its last weighted revision, changing nothing).
    const down = setTraffic(structuredClone(env), []);
    await d.drainRevision(down, 's-v2', opts());
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(kube.object('v1', 'Service', 'default', 'r1-shop')).toBeDefined();
    await expect(d.archiveRevision(down, 's-v2', opts())).rejects.toMatchObject({ code: 'RoutingNotReleased' });
    expect(deploymentObj('r1-s-v2')).toBeDefined();
    await takeDown(d, down);
    expect(kube.object('v1', 'Service', 'default', 'r1-shop')).toBeUndefined();
    expect(await d.observe(env, opts())).toEqual({
      revisions: { 's-v1': { present: false, healthy: false }, 's-v2': { present: false, healthy: false } },
      splits: {},
    });
  });

  it('reports drift: a revision scaled or deleted from outside, and re-warm takes it back', async () => {
    const d = await deployer();
    const env = envWith('r2', 'cart', [
      rev('c-v1', { resources: { cpu: 0.1, memory_mb: 64, replicas: 2, gpu: 0 } }),
      rev('c-v2'),
    ]);
    await d.warmRevision(env, 'c-v1', opts());
    await d.warmRevision(env, 'c-v2', opts());
    await d.applyTrafficSplit(
      setTraffic(env, [
        ['c-v1', 5000],
        ['c-v2', 5000],
      ]),
      'cart',
      opts(),
    );

    // Someone scales c-v2 with a merge patch, as `kubectl scale` would.
    const patch = await fetch(`${kube.url}/apis/apps/v1/namespaces/default/deployments/r2-c-v2?fieldManager=kubectl`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 3 } }),
    });
    expect(patch.status).toBe(200);
    let seen = await d.observe(env, opts());
    // 50/50 over a pool of 2 was 1 + 1 pods; now 1 + 3: what the Service really does is 25/75.
    expect(seen.splits.cart).toEqual([
      { revision_id: 'c-v1', weight_bps: 2500 },
      { revision_id: 'c-v2', weight_bps: 7500 },
    ]);

    // Re-enforcing the split takes the field back from kubectl (force).
    await d.applyTrafficSplit(env, 'cart', opts());
    expect(replicasOf('r2-c-v2')).toBe(1);
    expect(deploymentObj('r2-c-v2')!.metadata.managedFields.map((m: Obj) => m.manager)).toEqual(['bp']);

    await fetch(`${kube.url}/apis/apps/v1/namespaces/default/deployments/r2-c-v1`, { method: 'DELETE' });
    seen = await d.observe(env, opts());
    expect(seen.revisions['c-v1']).toEqual({ present: false, healthy: false });
    expect(seen.splits.cart).toEqual([{ revision_id: 'c-v2', weight_bps: 10000 }]);
    await d.warmRevision(env, 'c-v1', opts());
    seen = await d.observe(env, opts());
    expect(seen.revisions['c-v1']).toEqual({ present: true, healthy: true });
    expect(seen.splits.cart).toEqual(env.deployments[0].traffic);
    await takeDown(d, setTraffic(env, []));
  });

  it('explains a field-manager conflict when force_conflicts is off', async () => {
    const d = await deployer({ force_conflicts: false });
    const env = envWith('r3', 'api', [rev('a-v1')]);
    await d.warmRevision(env, 'a-v1', opts());
    await fetch(`${kube.url}/apis/apps/v1/namespaces/default/deployments/r3-a-v1?fieldManager=kubectl-scale`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 0 } }),
    });
    expect((await d.observe(env, opts())).revisions['a-v1']).toEqual({ present: true, healthy: false });
    const err = await d.warmRevision(env, 'a-v1', opts()).then(
      () => null,
      (e: Obj) => e,
    );
    expect(err).toMatchObject({ code: 'Provider', retryable: false });
    expect(err?.message).toMatch(/conflict.*\.spec\.replicas.*kubectl-scale.*force_conflicts: true/);
    await d.archiveRevision(env, 'a-v1', opts());
  });
});

describe('gateway-api traffic mode', () => {
  it('puts the weights on an HTTPRoute attached to the configured Gateway', async () => {
    const d = await deployer({
      traffic: 'gateway-api',
      gateway: { name: 'public', namespace: 'infra' },
      hostnames: ['shop.example'],
    });
    const env = envWith('g1', 'front', [rev('f-v1'), rev('f-v2')]);
    await d.warmRevision(env, 'f-v1', opts());
    await d.warmRevision(env, 'f-v2', opts());
    await d.applyTrafficSplit(
      setTraffic(env, [
        ['f-v1', 9000],
        ['f-v2', 1000],
      ]),
      'front',
      opts(),
    );
    const route = kube.object('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'g1-front') as Obj;
    expect(route.spec).toEqual({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra' }],
      hostnames: ['shop.example'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { group: '', kind: 'Service', name: 'g1-f-v1', port: 80, weight: 9000 },
            { group: '', kind: 'Service', name: 'g1-f-v2', port: 80, weight: 1000 },
          ],
        },
      ],
    });
    // Gateway mode never scales for weights.
    expect([replicasOf('g1-f-v1'), replicasOf('g1-f-v2')]).toEqual([1, 1]);
    expect((await d.observe(env, opts())).splits.front).toEqual(env.deployments[0].traffic);

    // Drift: someone edits the weights.
    await fetch(
      `${kube.url}/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/g1-front?fieldManager=kubectl-edit`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { rules: [{ backendRefs: [{ name: 'g1-f-v1', port: 80, weight: 1 }] }] } }),
      },
    );
    expect((await d.observe(env, opts())).splits.front).toEqual([{ revision_id: 'f-v1', weight_bps: 1 }]);
    await d.applyTrafficSplit(env, 'front', opts());
    expect((await d.observe(env, opts())).splits.front).toEqual(env.deployments[0].traffic);

    await d.archiveRevision(setTraffic(env, []), 'f-v1', opts());
    expect((await d.observe(env, opts())).splits.front).toEqual([{ revision_id: 'f-v2', weight_bps: 1000 }]);
    await takeDown(d, env);
    expect(kube.object('gateway.networking.k8s.io/v1', 'HTTPRoute', 'default', 'g1-front')).toBeUndefined();
  });

  it('says to install the Gateway API CRDs when the cluster does not serve HTTPRoute', async () => {
    const bare = await startFakeKubeApiServer({ gatewayApi: false, readyDelayMs: 10 });
    try {
      const d = await k8sPlugin.create(
        { kubeconfig: writeKubeconfig(bare.url), traffic: 'gateway-api', poll_interval_ms: 20 },
        { logger: quiet, stateDir: '/tmp' },
      );
      const env = envWith('g2', 'front', [rev('n-v1')]);
      await d.warmRevision(env, 'n-v1', opts());
      await expect(d.applyTrafficSplit(setTraffic(env, [['n-v1', 10000]]), 'front', opts())).rejects.toMatchObject({
        code: 'Provider',
        retryable: false,
        message: expect.stringMatching(/does not serve HTTPRoute.*install the Gateway API CRDs/),
      });
    } finally {
      await bare.close();
    }
  });
});

describe('throttling and server errors', () => {
  it('by default sends each request once: a 429 fails the verb, retryable, with the Retry-After for the engine', async () => {
    const d = await deployer();
    const env = envWith('t0', 'web', [rev('t0-v1')]);
    await d.observe(env, opts()); // discovery cached
    kube.journal.clear();
    kube.faults.add({ method: 'PATCH', status: 429, retryAfterSeconds: 7, times: 1 });
    await expect(d.warmRevision(env, 't0-v1', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: true,
      retryAfterMs: 7000,
      message: expect.stringMatching(/throttling/),
    });
    expect(kube.journal.entries.filter((e) => e.method === 'PATCH')).toHaveLength(1);
    kube.faults.clear();
    kube.journal.clear();
    kube.faults.add({ method: 'PATCH', status: 500, times: 1 });
    await expect(d.warmRevision(env, 't0-v1', opts())).rejects.toMatchObject({ code: 'Provider', retryable: true });
    expect(kube.journal.entries.filter((e) => e.method === 'PATCH')).toHaveLength(1);
    kube.faults.clear();
    await d.archiveRevision(env, 't0-v1', opts());
  });

  it('with request_attempts: 3, retries 429 after Retry-After and 500s in place, then succeeds', async () => {
    const d = await deployer({ request_attempts: 3 });
    const env = envWith('t1', 'web', [rev('t-v1')]);
    await d.observe(env, opts()); // discovery cached
    kube.journal.clear();
    kube.faults.add({ method: 'PATCH', status: 429, retryAfterSeconds: 1, times: 1 });
    kube.faults.add({ method: 'PATCH', status: 500, times: 1 });
    const started = Date.now();
    await d.warmRevision(env, 't-v1', opts());
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(kube.journal.entries.filter((e) => e.status === 429)).toHaveLength(1);
    expect(kube.journal.entries.filter((e) => e.status === 500)).toHaveLength(1);
    await d.archiveRevision(env, 't-v1', opts());
  });

  it('gives up with a retryable ProviderError when throttling persists, and 409s are retryable', async () => {
    const d = await deployer({ request_attempts: 2 });
    const env = envWith('t2', 'web', [rev('t2-v1')]);
    await d.observe(env, opts());
    kube.faults.add({ path: '/deployments', status: 429, retryAfterSeconds: 0 });
    await expect(d.observe(env, opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: true,
      message: expect.stringMatching(/throttling/),
    });
    kube.faults.clear();
    kube.faults.add({ method: 'PATCH', status: 409 });
    await expect(d.warmRevision(env, 't2-v1', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: true,
      message: expect.stringMatching(/conflict \(409\)/),
    });
    kube.faults.clear();
    await d.archiveRevision(env, 't2-v1', opts());
  });
});
