/**
 * gcp-compute as Compute Engine judges it: limits refused before any call (draining 0-3600 s,
 * metadata values 256 KB), the enforced per-mille split recorded, backend service updates under
 * their fingerprint, label values that keep `Prod.EU` and `prod-eu` apart, paginated lists.
 */
import { takeDown } from '../helpers/take-down.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/gcp-compute.js';
import { labelValue } from '../../src/deployers/gcp-compute/names.js';
import type { Deployer } from '../../src/model/deployer.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { environment, fakeConfig, opts, revision, startFake } from './gcp-compute-fixtures.js';

let fake: FakeGce;
let deployer: Deployer;
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const small = { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 };

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 60, healthyAfterMs: 120 }, pageSize: 2 });
  deployer = await plugin.create(fakeConfig(fake), { logger, stateDir: '/nonexistent' });
});
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

describe('gcp-compute limits and convergence', () => {
  it('refuses drain_seconds over 3600 and metadata values over 256 KB before any call', async () => {
    const mark = fake.journal.length;
    const slow = environment([{ id: 'web', revisions: [revision('slow', { resources: small, drain_seconds: 7200 })] }]);
    expect((await rejection(deployer.warmRevision(slow, 'slow', opts()))).message).toContain('limit of 3600 s');
    const big = environment([
      {
        id: 'web',
        revisions: [
          revision('big', {
            resources: small,
            artifact: { image: 'us-docker.pkg.dev/p/r/x:1', env: { BLOB: 'x'.repeat(270_000) } },
          }),
        ],
      },
    ]);
    expect((await rejection(deployer.stageRevision(big, 'big', opts()))).message).toContain('at most 262144 bytes');
    expect(fake.journal.length).toBe(mark);
  });

  it('runs VMs as a service account (the default one when unset), so private images pull through the VM identity', async () => {
    const env = environment([{ id: 'web', revisions: [revision('sa-v1', { resources: small })] }]);
    await deployer.stageRevision(env, 'sa-v1', opts());
    const template = fake
      .list(`projects/bp-test-project/global`, 'instanceTemplates')
      .find((t) => String(t.description).includes('"sa-v1"'))!;
    expect((template.properties as { serviceAccounts: unknown }).serviceAccounts).toEqual([
      { email: 'default', scopes: ['https://www.googleapis.com/auth/cloud-platform'] },
    ]);
    await deployer.archiveRevision(env, 'sa-v1', opts());
  });

  it('keeps label values of ids that differ only in case and punctuation apart', () => {
    expect(labelValue('Prod.EU')).not.toBe(labelValue('prod-eu'));
    for (const v of [labelValue('Prod.EU'), labelValue('x'.repeat(200))]) expect(v).toMatch(/^[a-z0-9_-]{1,63}$/);
  });

  it('records the enforced split, lists across pages, and adds a group to its backend service under the fingerprint', async () => {
    const revs = ['pm-a', 'pm-b', 'pm-c'].map((id) => revision(id, { resources: small }));
    const env = environment([
      {
        id: 'pm',
        revisions: revs,
        traffic: [
          { revision_id: 'pm-a', weight_bps: 9995 },
          { revision_id: 'pm-b', weight_bps: 5 },
          { revision_id: 'pm-c', weight_bps: 0 },
        ],
      },
    ]);
    await Promise.all(revs.map((r) => deployer.warmRevision(env, r.revision_id, opts())));
    const applied = await deployer.applyTrafficSplit(env, 'pm', opts());
    expect(applied.applied_entries).toEqual([
      { revision_id: 'pm-a', weight_bps: 9990 },
      { revision_id: 'pm-b', weight_bps: 10 },
      { revision_id: 'pm-c', weight_bps: 0 },
    ]);
    expect((await deployer.observe(env, opts())).splits.pm).toEqual(applied.applied_entries);
    expect(fake.journal.some((j) => j.method === 'GET' && /pageToken=/.test(j.query))).toBe(true);

    // Drain takes the group out; the next warm patches it back in, with the fingerprint.
    await deployer.drainRevision(env, 'pm-c', opts());
    const mark = fake.journal.length;
    await deployer.warmRevision(env, 'pm-c', opts());
    const patches = fake.journal
      .slice(mark)
      .filter((j) => j.method === 'PATCH' && j.path.includes('/backendServices/'));
    expect(patches.map((j) => j.status)).toEqual([200]);
    expect((await deployer.observe(env, opts())).revisions['pm-c']).toEqual({ present: true, healthy: true });
    await takeDown(deployer, env);
  }, 120_000);
});
