/**
 * kubectl (the real binary, /usr/bin/kubectl) pointed at the fake API server sees what bp
 * created: `get`, `describe`, and `rollout status`, which lists with a fieldSelector and then
 * watches from the list's resourceVersion. A rollout that is not done is reported as not done,
 * even while another Deployment completes.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import k8sPlugin from '../../src/deployers/k8s.js';
import type { DeployerEnvironment, DeployerRevision } from '../../src/model/deployer.js';
import { ENVIRONMENT_SCHEMA } from '../../src/model/environment.js';
import { writeKubeconfig } from '../fakes/kube-apiserver/kubeconfig.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const opts = () => ({ signal: new AbortController().signal });
let kube: FakeKube;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startFakeKubeApiServer({
    readyDelayMs: 20,
    tickMs: 10,
    failures: [{ image: /\.invalid\//, reason: 'ImagePullBackOff' }],
  });
  kubeconfig = writeKubeconfig(kube.url);
});
afterAll(() => kube?.close());

/** kubectl, asynchronously: the fake server runs in this process and must keep answering. */
function kubectl(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { encoding: 'utf8', timeout: 60_000 },
      (e, stdout, stderr) => {
        if (e && (e as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            new Error('kubectl is not installed: apt-get install kubectl (or kubernetes-client) to run this test'),
          );
          return;
        }
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      },
    );
  });
}

function rev(id: string, image: string): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image, env: { GREETING: 'hi' } },
    resources: { cpu: 0.1, memory_mb: 64, replicas: 2, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 5 },
    drain_seconds: 0,
    ttl: null,
    state: 'ready',
    lifecycle: 'inactive',
    outputs: {},
    endpoint: null,
  };
}
const env = (revisions: DeployerRevision[]): DeployerEnvironment => ({
  schema: ENVIRONMENT_SCHEMA,
  environment_id: 'kc',
  deployers: { k: { type: 'k8s', config: {} } },
  deployments: [{ deployment_id: 'web', deployer: 'k', listen: null, revisions, traffic: [] }],
  notifications: [],
  base_dir: '/',
});

describe('kubectl against the fake API server', () => {
  it('gets, describes and follows rollouts of what bp deployed', async () => {
    const d = await k8sPlugin.create(
      { kubeconfig, namespace: 'default', poll_interval_ms: 10 },
      { logger: quiet, stateDir: '/tmp' },
    );
    const e = env([rev('web-v1', 'registry.example/web:1'), rev('web-bad', 'nowhere.invalid/web:1')]);
    await d.warmRevision(e, 'web-v1', opts());

    const get = await kubectl('get', 'deployments', '-l', 'bp.dev/environment=kc');
    expect(get.code, get.out).toBe(0);
    expect(get.out).toMatch(/^NAME\b/m);
    expect(get.out).toMatch(/^kc-web-v1\b/m);

    const describe_ = await kubectl('describe', 'deployment', 'kc-web-v1');
    expect(describe_.code, describe_.out).toBe(0);
    expect(describe_.out).toMatch(/Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/);
    expect(describe_.out).toMatch(/bp\.dev\/environment=kc/);
    expect(describe_.out).toMatch(/Image:\s+registry\.example\/web:1/);

    const done = await kubectl('rollout', 'status', 'deployment/kc-web-v1', '--timeout=20s');
    expect(done.code, done.out).toBe(0);
    expect(done.out).toMatch(/deployment "kc-web-v1" successfully rolled out/);
    const watches = kube.journal.entries.filter((x) => x.query.watch === 'true' && x.userAgent?.startsWith('kubectl'));
    expect(watches.at(-1)?.query.fieldSelector).toBe('metadata.name=kc-web-v1');

    // A rollout that cannot finish is not reported done, while another Deployment changes meanwhile.
    const warming = d.warmRevision(e, 'web-bad', opts()).catch((err: Error) => err);
    const pending = kubectl('rollout', 'status', 'deployment/kc-web-bad', '--timeout=3s');
    await fetch(`${kube.url}/apis/apps/v1/namespaces/default/deployments/kc-web-v1?fieldManager=kubectl-scale`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 3 } }),
    });
    const stuck = await pending;
    expect(stuck.code).not.toBe(0);
    expect(stuck.out).toMatch(
      /Waiting for deployment "kc-web-bad" rollout to finish: 0 of 2 updated replicas are available/,
    );
    expect(stuck.out).not.toMatch(/successfully rolled out/);
    expect(await warming).toMatchObject({ code: 'Provider', message: expect.stringMatching(/ImagePullBackOff/) });
    for (const id of ['web-v1', 'web-bad']) await d.archiveRevision(e, id, opts());
    expect((await kubectl('get', 'deployments', '-l', 'bp.dev/environment=kc')).out).toMatch(/No resources found/);
  });
});
