/**
 * Native secret delivery of the k8s deployer (docs/secrets.md, "Where values go"): a revision's
 * env values live in its own immutable Secret, created before its Deployment and deleted when
 * the revision is archived; the pod template reads them through `secretKeyRef` and never holds
 * a value. Through the real @kubernetes/client-node against the fake kube-apiserver, whose
 * kubelet stand-in refuses to start a pod whose Secret is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import k8sPlugin from '../../src/deployers/k8s.js';
import type { Deployer, DeployerEnvironment, DeployerRevision } from '../../src/model/deployer.js';
import { ENVIRONMENT_SCHEMA } from '../../src/model/environment.js';
import { writeKubeconfig } from '../fakes/kube-apiserver/kubeconfig.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';

type Obj = Record<string, any>;
const CANARY = 'k8s-canary-7d1e0f9a3c';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const opts = () => ({ signal: new AbortController().signal });
let kube: FakeKube;
let d: Deployer;

function rev(id: string, env: Record<string, string>): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image: `registry.example/web:${id}`, env },
    resources: { cpu: 0.25, memory_mb: 128, replicas: 2, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 30 },
    drain_seconds: 0,
    ttl: null,
    state: 'ready',
    lifecycle: 'inactive',
    outputs: {},
    endpoint: null,
  };
}

function envOf(revisions: DeployerRevision[]): DeployerEnvironment {
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: 'sec',
    deployers: { k: { type: 'k8s', config: {} } },
    deployments: [{ deployment_id: 'web', deployer: 'k', listen: null, revisions, traffic: [] }],
    notifications: [],
    base_dir: '/',
  };
}

const secretObj = (name: string) => kube.object('v1', 'Secret', 'default', name) as Obj | undefined;

beforeAll(async () => {
  kube = await startFakeKubeApiServer({ readyDelayMs: 30 });
  d = await k8sPlugin.create(
    { kubeconfig: writeKubeconfig(kube.url), namespace: 'default', poll_interval_ms: 20 },
    { logger: quiet, stateDir: '/tmp' },
  );
});
afterAll(() => kube?.close());

describe('k8s secret delivery', () => {
  it('a per-revision immutable Secret, referenced by secretKeyRef, created before the Deployment', async () => {
    const env = envOf([rev('v1', { API_TOKEN: CANARY, GREETING: 'hi' })]);
    await d.stageRevision(env, 'v1', opts());
    await d.warmRevision(env, 'v1', opts());
    const secret = secretObj('sec-v1')!;
    expect(secret).toMatchObject({ immutable: true, type: 'Opaque' });
    expect(Buffer.from(secret.data.API_TOKEN, 'base64').toString()).toBe(CANARY);
    expect(secret.metadata.labels).toMatchObject({ 'bp.dev/revision': 'v1', 'app.kubernetes.io/managed-by': 'bp' });
    const container = (kube.object('apps/v1', 'Deployment', 'default', 'sec-v1') as Obj).spec.template.spec
      .containers[0];
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'sec-v1', key: 'API_TOKEN' } } },
        { name: 'PORT', value: '8080' },
      ]),
    );
    const writes = kube.journal.entries.filter((e) => e.method === 'PATCH');
    const order = writes.map((e) => e.path.split('/').slice(-2).join('/'));
    expect(order.indexOf('secrets/sec-v1')).toBeLessThan(order.indexOf('deployments/sec-v1'));
  });

  it('the canary never appears in any Deployment or pod object, in the journal or the store', () => {
    const b64 = Buffer.from(CANARY).toString('base64');
    for (const e of kube.journal.entries) {
      const body = JSON.stringify(e.body ?? '');
      // Only the Secret's own write carries it, and base64-encoded (never stringData).
      expect(body).not.toContain(CANARY);
      if (!e.path.includes('/secrets/')) expect(body).not.toContain(b64);
    }
    const objects = [...kube.objects('apps/v1', 'Deployment'), ...kube.objects('v1', 'Pod')];
    expect(objects.length).toBeGreaterThan(2);
    for (const o of objects) expect(JSON.stringify(o)).not.toMatch(new RegExp(`${CANARY}|${b64}`));
  });

  it('the API server refuses changing the immutable Secret; bp replaces it when the value rotated before warm', async () => {
    const t = kube.registry.byKind('v1', 'Secret')!;
    const live = kube.store.get(t, 'default', 'sec-v1');
    expect(() =>
      kube.store.replace(t, 'default', 'sec-v1', { ...live, data: { API_TOKEN: 'b3RoZXI=' } }, { manager: 'x' }),
    ).toThrow(/field is immutable when `immutable` is set/);
    const rotated = envOf([rev('v1', { API_TOKEN: 'rotated-value-1234', GREETING: 'hi' })]);
    await d.warmRevision(rotated, 'v1', opts());
    expect(Buffer.from(secretObj('sec-v1')!.data.API_TOKEN, 'base64').toString()).toBe('rotated-value-1234');
  });

  it('drain runs without the values (references as written) and leaves the Secret and template alone', async () => {
    const before = (kube.object('apps/v1', 'Deployment', 'default', 'sec-v1') as Obj).spec.template;
    const unresolved = envOf([rev('v1', { API_TOKEN: '${secret:aws-sm:prod/token}', GREETING: 'hi' })]);
    await d.drainRevision(unresolved, 'v1', opts());
    const after = kube.object('apps/v1', 'Deployment', 'default', 'sec-v1') as Obj;
    expect(after.spec.replicas).toBe(0);
    expect(after.spec.template).toEqual(before);
    expect(Buffer.from(secretObj('sec-v1')!.data.API_TOKEN, 'base64').toString()).toBe('rotated-value-1234');
  });

  it('archive deletes the Secret with the revision', async () => {
    await d.archiveRevision(
      envOf([rev('v1', { API_TOKEN: '${secret:aws-sm:prod/token}', GREETING: 'hi' })]),
      'v1',
      opts(),
    );
    expect(secretObj('sec-v1')).toBeUndefined();
    expect(kube.object('apps/v1', 'Deployment', 'default', 'sec-v1')).toBeUndefined();
  });

  it('the fake kubelet keeps a pod whose Secret is missing in CreateContainerConfigError', async () => {
    const t = kube.registry.byKind('apps/v1', 'Deployment')!;
    kube.store.create(
      t,
      'default',
      {
        metadata: { name: 'orphan' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'orphan' } },
          template: {
            metadata: { labels: { app: 'orphan' } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'registry.example/x:1',
                  env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'nope', key: 'T' } } }],
                },
              ],
            },
          },
        },
      },
      { manager: 'kubectl' },
    );
    await expect
      .poll(() => JSON.stringify(kube.objects('v1', 'Pod', 'default', 'app=orphan')))
      .toContain('CreateContainerConfigError');
    expect(JSON.stringify(kube.objects('v1', 'Pod', 'default', 'app=orphan'))).toContain('secret \\"nope\\" not found');
  });
});
