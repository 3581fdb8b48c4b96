/**
 * Environments sharing a namespace, ownership, autoscaling, per-deployment routes and
 * transitions, through the real @kubernetes/client-node against the strict fake API server.
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
  kube = await startFakeKubeApiServer({ readyDelayMs: 20, tickMs: 10 });
  kubeconfig = writeKubeconfig(kube.url);
});
afterAll(() => kube?.close());
beforeEach(() => kube.journal.clear());

function rev(id: string, replicas = 1, over: Partial<DeployerRevision> = {}): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image: `registry.example/web:${id}`, env: {} },
    resources: { cpu: 0.1, memory_mb: 64, replicas, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 5 },
    drain_seconds: 0,
    ttl: null,
    state: 'ready',
    lifecycle: 'inactive',
    outputs: {},
    endpoint: null,
    ...over,
  };
}

function env(envId: string, deployments: Array<{ id: string; revisions: DeployerRevision[] }>): DeployerEnvironment {
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: envId,
    deployers: { k: { type: 'k8s', config: {} } },
    deployments: deployments.map((d) => ({
      deployment_id: d.id,
      deployer: 'k',
      listen: null,
      revisions: d.revisions,
      traffic: [],
    })),
    notifications: [],
    base_dir: '/',
  };
}

function split(e: DeployerEnvironment, pairs: Array<[string, number]>, deployment = 0): DeployerEnvironment {
  e.deployments[deployment].traffic = pairs.map(([revision_id, weight_bps]) => ({ revision_id, weight_bps }));
  return e;
}

const deployer = (config: Obj = {}): Promise<Deployer> =>
  Promise.resolve(
    k8sPlugin.create(
      { kubeconfig, namespace: 'default', poll_interval_ms: 10, ...config },
      { logger: quiet, stateDir: '/tmp' },
    ),
  );
const obj = (apiVersion: string, kind: string, name: string) =>
  kube.object(apiVersion, kind, 'default', name) as Obj | undefined;
const replicas = (name: string) => obj('apps/v1', 'Deployment', name)?.spec.replicas;

describe.each(['replicas', 'gateway-api'] as const)('two environments in one namespace (%s mode)', (traffic) => {
  it('apply, promote and destroy independently', async () => {
    const d = await deployer({ traffic, gateway: { name: 'public' } });
    const prod = env(`prod-${traffic[0]}`, [{ id: 'web', revisions: [rev('web-v1', 2), rev('web-v2', 2)] }]);
    const staging = env(`staging-${traffic[0]}`, [{ id: 'web', revisions: [rev('web-v1', 2), rev('web-v2', 2)] }]);
    for (const e of [prod, staging]) await d.warmRevision(e, 'web-v1', opts());
    await d.applyTrafficSplit(split(prod, [['web-v1', 10000]]), 'web', opts());
    await d.applyTrafficSplit(split(staging, [['web-v1', 10000]]), 'web', opts());
    // Staging promotes v2 and then goes away entirely.
    await d.warmRevision(staging, 'web-v2', opts());
    await d.applyTrafficSplit(
      split(staging, [
        ['web-v1', 0],
        ['web-v2', 10000],
      ]),
      'web',
      opts(),
    );
    const prodSeen = await d.observe(prod, opts());
    expect(prodSeen.splits.web).toEqual([{ revision_id: 'web-v1', weight_bps: 10000 }]);
    expect((await d.observe(staging, opts())).splits.web).toEqual(staging.deployments[0].traffic);
    const down = split(structuredClone(staging), []);
    for (const id of ['web-v1', 'web-v2']) await d.drainRevision(down, id, opts());
    await takeDown(d, down);
    // Prod is untouched: its routing object, revision and split.
    expect(await d.observe(prod, opts())).toEqual(prodSeen);
    expect(replicas(`prod-${traffic[0]}-web-v1`)).toBe(2);
    const routing =
      traffic === 'replicas'
        ? obj('v1', 'Service', `prod-${traffic[0]}-web`)
        : obj('gateway.networking.k8s.io/v1', 'HTTPRoute', `prod-${traffic[0]}-web`);
    expect(routing?.metadata.annotations['bp.dev/environment-id']).toBe(`prod-${traffic[0]}`);
    expect(kube.objects('apps/v1', 'Deployment', 'default', `bp.dev/environment=staging-${traffic[0]}`)).toEqual([]);
    await takeDown(d, split(prod, []));
  });
});

describe('ownership', () => {
  it('refuses to change or delete an object of the same name that another environment owns', async () => {
    const d = await deployer();
    // "a" + "b-c" and "a-b" + "c" are both named a-b-c.
    const first = env('a', [{ id: 'x', revisions: [rev('b-c')] }]);
    const second = env('a-b', [{ id: 'y', revisions: [rev('c')] }]);
    await d.warmRevision(first, 'b-c', opts());
    const rv = obj('apps/v1', 'Deployment', 'a-b-c')!.metadata.resourceVersion;
    kube.journal.clear();
    await expect(d.warmRevision(second, 'c', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
      message: expect.stringMatching(
        /Deployment a-b-c in namespace default belongs to environment "a" \(deployment "x", revision "b-c"\); bp will not change it/,
      ),
    });
    expect(kube.journal.entries.filter((e) => e.method !== 'GET')).toEqual([]);
    await d.archiveRevision(second, 'c', opts());
    expect(obj('apps/v1', 'Deployment', 'a-b-c')!.metadata.resourceVersion).toBe(rv);
    await d.archiveRevision(first, 'b-c', opts());
    expect(obj('apps/v1', 'Deployment', 'a-b-c')).toBeUndefined();
  });

  it('refuses an object bp did not create', async () => {
    const d = await deployer();
    await fetch(`${kube.url}/api/v1/namespaces/default/services?fieldManager=kubectl`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'own-svc' },
        spec: { ports: [{ port: 80 }] },
      }),
    });
    const e = env('own', [{ id: 'web', revisions: [rev('svc')] }]);
    await expect(d.warmRevision(e, 'svc', opts())).rejects.toMatchObject({
      message: expect.stringMatching(/Service own-svc in namespace default was not created by bp/),
    });
    expect(obj('apps/v1', 'Deployment', 'own-svc')).toBeUndefined();
    await d.archiveRevision(e, 'svc', opts());
    expect(obj('v1', 'Service', 'own-svc')).toBeDefined();
  });

  it('refuses a revision id equal to its deployment id before any request', async () => {
    const d = await deployer();
    const e = env('ids', [{ id: 'api', revisions: [rev('api')] }]);
    kube.journal.clear();
    await expect(d.warmRevision(e, 'api', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
      message: expect.stringMatching(/"ids-api", which deployment "api" already uses/),
    });
    expect(kube.journal.entries).toEqual([]);
  });
});

describe('autoscaling', () => {
  it('refuses max_replicas in replicas mode; in gateway-api mode the HPA owns spec.replicas and bp never fights it', async () => {
    const auto = rev('auto-v1', 2, { resources: { cpu: 0.1, memory_mb: 64, replicas: 2, gpu: 0, max_replicas: 4 } });
    const byReplicas = await deployer();
    await expect(
      byReplicas.warmRevision(env('hpa', [{ id: 'auto', revisions: [auto] }]), 'auto-v1', opts()),
    ).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/uses traffic: replicas.*gateway-api/),
    });

    const d = await deployer({ traffic: 'gateway-api' });
    const e = split(env('hpa', [{ id: 'auto', revisions: [auto] }]), [['auto-v1', 10000]]);
    await d.warmRevision(e, 'auto-v1', opts());
    expect(obj('autoscaling/v2', 'HorizontalPodAutoscaler', 'hpa-auto-v1')!.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 4,
    });
    const until = async (want: number) => {
      for (let i = 0; i < 300 && replicas('hpa-auto-v1') !== want; i++) await new Promise((r) => setTimeout(r, 10));
      return replicas('hpa-auto-v1');
    };
    expect(await until(2)).toBe(2);
    kube.controller.options.cpuUtilization['default/hpa-auto-v1'] = 1000;
    expect(await until(4)).toBe(4);
    // Re-warming and splitting leave the autoscaler's count alone: bp does not own spec.replicas.
    await d.warmRevision(e, 'auto-v1', opts());
    await d.applyTrafficSplit(e, 'auto', opts());
    expect(replicas('hpa-auto-v1')).toBe(4);
    const managers = obj('apps/v1', 'Deployment', 'hpa-auto-v1')!.metadata.managedFields as Obj[];
    expect(JSON.stringify(managers.find((m) => m.manager === 'bp')!.fieldsV1)).not.toContain('f:replicas');
    // Drain removes the HPA first, so nothing scales the drained revision back up.
    await d.drainRevision(split(e, []), 'auto-v1', opts());
    expect(obj('autoscaling/v2', 'HorizontalPodAutoscaler', 'hpa-auto-v1')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(replicas('hpa-auto-v1')).toBe(0);
    delete kube.controller.options.cpuUtilization['default/hpa-auto-v1'];
    await takeDown(d, e);
  });
});

describe('gateway-api routes', () => {
  it('gives each deployment its own hostnames and path match; taking a deployment down releases its route before its Service goes', async () => {
    const d = await deployer({
      traffic: 'gateway-api',
      gateway: { name: 'public', namespace: 'infra' },
      hostnames: ['shop.example.com'],
      routes: { checkout: { path_prefix: '/checkout' }, admin: { hostnames: ['admin.example.com'] } },
    });
    const e = env('gw', [
      { id: 'web', revisions: [rev('web-1')] },
      { id: 'checkout', revisions: [rev('co-1')] },
      { id: 'admin', revisions: [rev('adm-1')] },
    ]);
    for (const [i, id] of ['web-1', 'co-1', 'adm-1'].entries()) {
      await d.warmRevision(e, id, opts());
      await d.applyTrafficSplit(split(e, [[id, 10000]], i), e.deployments[i].deployment_id, opts());
    }
    const route = (name: string) => obj('gateway.networking.k8s.io/v1', 'HTTPRoute', name)!.spec;
    expect(route('gw-web')).toMatchObject({
      hostnames: ['shop.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }],
    });
    expect(route('gw-checkout')).toMatchObject({
      hostnames: ['shop.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/checkout' } }] }],
    });
    expect(route('gw-admin')).toMatchObject({ hostnames: ['admin.example.com'] });

    kube.journal.clear();
    const down = split(structuredClone(e), [], 0);
    await d.drainRevision(down, 'web-1', opts());
    await takeDown(d, down, ['web']);
    expect(obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'gw-web')).toBeUndefined();
    // Never written without a weighted backend, and deleted before the Service it pointed at.
    const routeWrites = kube.journal.find('PATCH', '/httproutes/gw-web');
    expect(
      routeWrites.filter((w) => !(w.body as Obj).spec.rules[0].backendRefs.some((b: Obj) => b.weight > 0)),
    ).toEqual([]);
    const order = kube.journal.entries
      .filter((x) => x.method === 'DELETE')
      .map((x) => x.path.split('/').slice(-2).join('/'));
    expect(order.indexOf('httproutes/gw-web')).toBeLessThan(order.indexOf('services/gw-web-1'));
    await takeDown(d, e, ['checkout', 'admin']);
  });
});

describe('replicas-mode transitions', () => {
  it('a 25% canary over 4 pods and its promotion never overshoot, and the leaving revision is never scaled up', async () => {
    const d = await deployer();
    const e = env('tr', [{ id: 'web', revisions: [rev('v1', 4), rev('v2', 4)] }]);
    await d.warmRevision(e, 'v1', opts());
    await d.applyTrafficSplit(split(e, [['v1', 10000]]), 'web', opts());
    await d.warmRevision(e, 'v2', opts());
    kube.journal.clear();
    const counts: Record<string, number> = { v1: replicas('tr-v1'), v2: 0 };
    const history: Array<Record<string, number>> = [];
    const record = () => {
      for (const w of kube.journal.entries) {
        if (w.method !== 'PATCH' || !w.path.includes('/deployments/')) continue;
        const id = w.path.endsWith('tr-v1') ? 'v1' : 'v2';
        counts[id] = (w.body as Obj).spec.replicas;
        history.push({ ...counts });
      }
      kube.journal.clear();
    };
    await d.applyTrafficSplit(
      split(e, [
        ['v1', 7500],
        ['v2', 2500],
      ]),
      'web',
      opts(),
    );
    record();
    expect([replicas('tr-v1'), replicas('tr-v2')]).toEqual([3, 1]);
    // Before the Service selected both, v2 (warm at 4 pods) came down to at most one pod.
    expect(history.every((h) => h.v2 <= 1 && h.v1 + h.v2 <= 5)).toBe(true);
    await d.applyTrafficSplit(
      split(e, [
        ['v1', 0],
        ['v2', 10000],
      ]),
      'web',
      opts(),
    );
    record();
    expect([replicas('tr-v1'), replicas('tr-v2')]).toEqual([0, 4]);
    const v1s = history.map((h) => h.v1);
    expect(v1s).toEqual([...v1s].sort((a, b) => b - a));
    for (const h of history) expect(h.v1 + h.v2).toBeGreaterThanOrEqual(4);
    await takeDown(d, split(e, []));
  });
});
