/**
 * gcp-compute against a fake that judges zones and quotas as Compute Engine does: a machine type
 * the zone does not offer is refused at stage, a group the quotas have no room for is refused
 * before it is created (nothing billable), a quota taken by someone else while the group is
 * created fails the warm at once with the group's own error, and every body bp hands the SDK
 * matches the published model (the SDK silently drops fields the model lacks).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import plugin from '../../src/deployers/gcp-compute.js';
import { GceApi, KINDS, type KindName } from '../../src/deployers/gcp-compute/api.js';
import type { Deployer } from '../../src/model/deployer.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { MESSAGES } from '../fakes/gcp/rules.js';
import { validateMessage } from '../fakes/gcp/schema.js';
import { environment, fakeConfig, opts, rejection, revision, startFake } from './gcp-compute-fixtures.js';

let fake: FakeGce;
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const small = { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 };
const deployers: Deployer[] = [];

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 60, healthyAfterMs: 120 } });
});
afterAll(async () => {
  for (const d of deployers) await d.close?.();
  await fake.close();
});

async function deployerWith(over: Parameters<typeof fakeConfig>[1] = {}): Promise<Deployer> {
  const d = await plugin.create(fakeConfig(fake, over), { logger, stateDir: '/nonexistent' });
  deployers.push(d);
  return d;
}

const inserts = (mark: number, collection: string) =>
  fake.journal.slice(mark).filter((j) => j.method === 'POST' && j.path.endsWith(`/${collection}`));

describe('gcp-compute: zones and quotas checked before anything billable', () => {
  it('refuses at stage, as final and naming the zone, a machine type its zone does not offer', async () => {
    const d = await deployerWith({ zone: 'us-central1-f', machine_type: 'g2-standard-4' });
    const env = environment([{ id: 'gpu', revisions: [revision('gpu-v1', { resources: small })] }]);
    const mark = fake.journal.length;
    const e = await rejection(d.stageRevision(env, 'gpu-v1', opts()));
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(
      'machine type g2-standard-4 is not offered in zone us-central1-f (zones of us-central1 that offer it: us-central1-a, us-central1-b, us-central1-c)',
    );
    expect(inserts(mark, 'instanceTemplates')).toHaveLength(0);
    expect(inserts(mark, 'instanceGroupManagers')).toHaveLength(0);
  });

  it('refuses a group over the CPUS quota before creating it, as final', async () => {
    fake.quotas.set({ CPUS: 4 });
    try {
      const d = await deployerWith();
      // e2-small: 2 vCPUs each; 3 replicas need 6 of 4.
      const env = environment([
        { id: 'big', revisions: [revision('big-v1', { resources: { ...small, replicas: 3 } })] },
      ]);
      const mark = fake.journal.length;
      const e = await rejection(d.warmRevision(env, 'big-v1', opts()));
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('needs 6 more of quota CPUS in region us-central1');
      expect(inserts(mark, 'instanceGroupManagers')).toHaveLength(0);
      expect(fake.list('projects/bp-test-project/zones/us-central1-a', 'instances')).toHaveLength(0);
      await d.archiveRevision(env, 'big-v1', opts());
    } finally {
      fake.quotas.set({ CPUS: 24 });
    }
  });

  it('fails the warm at once with the group error when the quota is taken while the group is created', async () => {
    const d = await deployerWith({ boot_grace_seconds: 600 });
    const env = environment([
      { id: 'race', revisions: [revision('race-v1', { resources: { ...small, replicas: 2 } })] },
    ]);
    // Someone else takes the CPUs between bp's quota check and the group's insert: the insert
    // is held until the quota has shrunk.
    fake.addFault({ method: 'POST', path: /instanceGroupManagers$/, delayMs: 1000, times: 1 });
    const mark = fake.journal.length;
    const warm = rejection(d.warmRevision(env, 'race-v1', opts()));
    try {
      await vi.waitFor(() => expect(inserts(mark, 'instanceGroupManagers')).toHaveLength(1), {
        timeout: 30_000,
        interval: 5,
      });
      fake.quotas.set({ CPUS: 2 });
      const e = await warm;
      expect(e.retryable).toBe(false);
      expect(e.message).toContain("cannot create its VMs: Quota 'CPUS' exceeded.  Limit: 2.0 in region us-central1.");
    } finally {
      fake.clearFaults();
      fake.quotas.set({ CPUS: 24 });
    }
    await d.archiveRevision(env, 'race-v1', opts());
  });
});

describe('gcp-compute: bodies match the published model', () => {
  it('hands the SDK no field the Compute v1 model lacks, no value of the wrong type or outside its enum', async () => {
    const seen: string[] = [];
    const check = (kind: KindName, body: unknown) => {
      validateMessage(MESSAGES[kind], body);
      seen.push(kind);
    };
    const spies = [
      vi.spyOn(GceApi.prototype, 'insert').mockImplementation(async function (this: GceApi, kind, body, signal) {
        check(kind, body);
        return insertOriginal.call(this, kind, body, signal);
      }),
      vi.spyOn(GceApi.prototype, 'patch').mockImplementation(async function (this: GceApi, kind, name, body, signal) {
        check(kind, body);
        return patchOriginal.call(this, kind, name, body, signal);
      }),
      vi.spyOn(GceApi.prototype, 'update').mockImplementation(async function (this: GceApi, kind, name, body, signal) {
        check(kind, body);
        return updateOriginal.call(this, kind, name, body, signal);
      }),
    ];
    try {
      const d = await deployerWith({ external_ip: true });
      const revs = ['m-a', 'm-b'].map((id) => revision(id, { resources: small }));
      const env = environment([
        {
          id: 'model',
          revisions: revs,
          traffic: revs.map((r, i) => ({ revision_id: r.revision_id, weight_bps: i === 0 ? 10000 : 0 })),
        },
      ]);
      for (const r of revs) await d.warmRevision(env, r.revision_id, opts());
      await d.applyTrafficSplit(env, 'model', opts());
      await d.drainRevision(env, 'm-b', opts());
      await d.warmRevision(env, 'm-b', opts());
      await d.releaseRouting!(env, 'model', opts());
      for (const r of revs) await d.archiveRevision(env, r.revision_id, opts());
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(new Set(seen)).toEqual(
      new Set([
        'instanceTemplates',
        'healthChecks',
        'instanceGroupManagers',
        'backendServices',
        'urlMaps',
        'targetHttpProxies',
        'forwardingRules',
      ]),
    );
    expect(Object.keys(MESSAGES)).toEqual(
      expect.arrayContaining(Object.keys(KINDS).filter((k) => k !== 'machineTypes')),
    );
  }, 120_000);
});

const insertOriginal = GceApi.prototype.insert;
const patchOriginal = GceApi.prototype.patch;
const updateOriginal = GceApi.prototype.update;
