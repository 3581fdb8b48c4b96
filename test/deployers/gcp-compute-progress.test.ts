/**
 * gcp-compute reports live progress from what its polls already read: while warming, the
 * backend service's health report (`1/2 VMs HEALTHY`, a VM that is not); while draining, the
 * connection-draining countdown. Against the fake Compute Engine, through the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/gcp-compute.js';
import type { Deployer } from '../../src/model/deployer.js';
import { revisionNames } from '../../src/deployers/gcp-compute/names.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { environment, fakeConfig, revision, startFake } from './gcp-compute-fixtures.js';
import { expectCountsReach, expectTimeLeft, neverHealthyRevision, progressRecorder } from './progress-fixtures.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let fake: FakeGce;
let deployer: Deployer;

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 60, healthyAfterMs: 200, repairDelayMs: 2500 } });
  deployer = await plugin.create(fakeConfig(fake), { logger: silent, stateDir: '/nonexistent' });
});
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

describe('gcp-compute live progress', () => {
  it('warming counts VMs HEALTHY in the backend service up to 2/2; draining counts down drain_seconds', async () => {
    const v1 = revision('Prog.v1', { drain_seconds: 2 });
    const n1 = revisionNames('gcp-test', 'Prog.v1');
    const env = environment([
      { id: 'prog', revisions: [v1], traffic: [{ revision_id: 'Prog.v1', weight_bps: 10000 }] },
    ]);
    const p = progressRecorder();
    await deployer.warmRevision(env, 'Prog.v1', p.opts());
    expectCountsReach(p.seen, 2, 'VMs HEALTHY in the backend service', false);
    expect(p.seen[0].waiting_for).toBe(`2 VMs of "Prog.v1" to pass the health check of ${n1.backendService}`);

    p.clear();
    await deployer.drainRevision(env, 'Prog.v1', p.opts());
    expectTimeLeft(p.seen, `connections to "Prog.v1" to drain from ${n1.backendService}`, 2);
    expect(p.seen[0].status).toBe('2s left');
  });

  it('a warm whose VMs never pass the check reports 0/1 and a VM UNHEALTHY while it waits', async () => {
    const bad = neverHealthyRevision(revision);
    const env = environment([{ id: 'bad', revisions: [bad] }]);
    const p = progressRecorder();
    await expect(deployer.warmRevision(env, 'Prog.bad', p.opts())).rejects.toThrow(
      /passed the load balancer's health check/,
    );
    expect(p.seen.length).toBeGreaterThan(0);
    expect(new Set(p.seen.map((s) => s.status))).toEqual(new Set(['0/1 VMs HEALTHY in the backend service']));
    const group = revisionNames('gcp-test', 'Prog.bad').group.replace(/-ig$/, '');
    expect(p.seen.at(-1)?.last).toMatch(new RegExp(`^${group}-\\w+ UNHEALTHY$`));
    await deployer.archiveRevision(env, 'Prog.bad', { signal: new AbortController().signal });
  });
});
