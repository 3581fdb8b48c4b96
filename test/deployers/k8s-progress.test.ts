/**
 * The k8s deployer reports live progress: while warming, replicas available of wanted (ending
 * at n/n) and why a pod is not ready yet; while draining, the drain_seconds countdown. Through
 * the real @kubernetes/client-node against the fake kube-apiserver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import k8sPlugin from '../../src/deployers/k8s.js';
import type { DeployerEnvironment, DeployerRevision } from '../../src/model/deployer.js';
import { ENVIRONMENT_SCHEMA } from '../../src/model/environment.js';
import { writeKubeconfig } from '../fakes/kube-apiserver/kubeconfig.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';
import { revision } from '../fakes/aws/env.js';
import { expectCountsReach, expectTimeLeft, progressRecorder } from './progress-fixtures.js';

let kube: FakeKube;
let kubeconfig: string;

// Pods get ready well after the first poll, so the reports show them coming up.
beforeAll(async () => {
  kube = await startFakeKubeApiServer({ readyDelayMs: 1500 });
  kubeconfig = writeKubeconfig(kube.url);
});
afterAll(() => kube?.close());

const env = (revisions: DeployerRevision[]): DeployerEnvironment => ({
  schema: ENVIRONMENT_SCHEMA,
  environment_id: 'pr',
  deployers: { k: { type: 'k8s', config: {} } },
  deployments: [{ deployment_id: 'web', deployer: 'k', listen: null, revisions, traffic: [] }],
  notifications: [],
  base_dir: '/',
});

describe('k8s live progress', () => {
  it('warming counts replicas available to 2/2 with the pods’ waiting reason; draining counts down', async () => {
    const d = await k8sPlugin.create(
      { kubeconfig, namespace: 'default', poll_interval_ms: 50 },
      { logger: { debug() {}, info() {}, warn() {}, error() {} }, stateDir: '/tmp' },
    );
    const e = env([
      revision('pr-v1', {
        artifact: { image: 'registry.example/web:1', env: {} },
        resources: { cpu: 0.25, memory_mb: 128, replicas: 2, gpu: 0 },
        drain_seconds: 2,
      }),
    ]);
    const p = progressRecorder();
    await d.warmRevision(e, 'pr-v1', p.opts());
    const last = expectCountsReach(p.seen, 2, 'replicas available');
    expect(p.seen[0].waiting_for).toBe('Deployment pr-pr-v1 of "pr-v1" to roll out');
    expect(last.some((l) => /^pod pr-pr-v1-[\w-]+ container \w+: ContainerCreating$/.test(l))).toBe(true);

    p.clear();
    await d.drainRevision(e, 'pr-v1', p.opts());
    expectTimeLeft(p.seen, 'requests in flight to "pr-v1" to finish', 2);
    expect(p.seen[0].status).toBe('2s left');
    await d.close?.();
  });
});
