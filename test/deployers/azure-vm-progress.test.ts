/**
 * azure-vm reports live progress from what its polls already read: while warming, VMs running
 * and Up in the load balancer's health probe (and one that is not, with its power state); while
 * draining, the countdown after its Traffic Manager endpoint is disabled. Against the fake
 * Resource Manager, through the real SDKs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/azure-vm.js';
import { revisionNames } from '../../src/deployers/azure-vm/names.js';
import type { Deployer } from '../../src/model/deployer.js';
import { FAKE_RESOURCE_GROUP, FAKE_SUBSCRIPTION, type FakeArm } from '../fakes/azure/server.js';
import { environment, fakeConfig, opts, revision, silent, split, startFake } from './azure-vm-fixtures.js';
import { expectCountsReach, expectTimeLeft, neverHealthyRevision, progressRecorder } from './progress-fixtures.js';

let fake: FakeArm;
let deployer: Deployer;

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 60, healthyAfterMs: 200 } });
  deployer = await plugin.create(fakeConfig(fake), { logger: silent, stateDir: '/nonexistent' });
});
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

const names = (rev: string) => revisionNames(`${FAKE_SUBSCRIPTION}/${FAKE_RESOURCE_GROUP}`, 'azure-test', rev);

describe('azure-vm live progress', () => {
  it('warming counts VMs up in the health probe to 2/2; draining counts down drain_seconds', async () => {
    const v1 = revision('Prog.v1', { drain_seconds: 2 });
    const env = environment([{ id: 'prog', revisions: [v1], traffic: split(['Prog.v1', 10000]) }]);
    const p = progressRecorder();
    await deployer.warmRevision(env, 'Prog.v1', p.opts());
    expectCountsReach(p.seen, 2, 'VMs running and up in the health probe', false);
    expect(p.seen[0].waiting_for).toBe(
      `2 VMs of "Prog.v1" to pass the health probe of ${names('Prog.v1').loadBalancer}`,
    );

    await deployer.applyTrafficSplit(env, 'prog', opts());
    p.clear();
    await deployer.drainRevision(env, 'Prog.v1', p.opts());
    expectTimeLeft(p.seen, /^resolvers and open connections to leave "Prog\.v1"/, 2);
    expect(p.seen[0].status).toBe('2s left');
  });

  it('a warm whose VMs never pass the probe reports 0/1 and a VM down while it waits', async () => {
    const bad = neverHealthyRevision(revision);
    const env = environment([{ id: 'bad', revisions: [bad] }]);
    const p = progressRecorder();
    await expect(deployer.warmRevision(env, 'Prog.bad', p.opts())).rejects.toThrow(
      /passed the load balancer's health probe/,
    );
    expect(new Set(p.seen.map((s) => s.status))).toEqual(new Set(['0/1 VMs running and up in the health probe']));
    expect(p.seen.at(-1)?.last).toBe(`${names('Prog.bad').vm(0)} running/down`);
    await deployer.archiveRevision(env, 'Prog.bad', opts());
  });
});
