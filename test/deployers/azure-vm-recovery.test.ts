/**
 * azure-vm as ARM judges it: a Failed VM re-PUT by a new bp process keeps the osProfile it was
 * created with (ARM refuses a changed one, 409 PropertyChangeNotAllowed), the split recorded is
 * the one Traffic Manager enforces, profiles stay under ARM's 50 tags, the health path follows
 * the file, and every list is read across pages (nextLink).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/azure-vm.js';
import { MAX_CUSTOM_DATA } from '../../src/deployers/azure-vm/custom-data.js';
import { revisionNames } from '../../src/deployers/azure-vm/names.js';
import type { Deployer } from '../../src/model/deployer.js';
import { FAKE_RESOURCE_GROUP, FAKE_SUBSCRIPTION, type FakeArm } from '../fakes/azure/server.js';
import { takeDown } from '../helpers/take-down.js';
import { environment, fakeConfig, opts, revision, silent, split, startFake } from './azure-vm-fixtures.js';

let fake: FakeArm;
const open: Deployer[] = [];

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 50, healthyAfterMs: 80 }, pageSize: 3 });
});
afterEach(async () => {
  fake.clearFaults();
  for (const d of open.splice(0)) await d.close?.();
});
afterAll(async () => {
  await fake.close();
});

/** A new deployer instance, as a new `bp apply` process gets. */
async function deployer(): Promise<Deployer> {
  const d = await plugin.create(fakeConfig(fake), { logger: silent, stateDir: '/nonexistent' });
  open.push(d);
  return d;
}

const names = (rev: string) => revisionNames(`${FAKE_SUBSCRIPTION}/${FAKE_RESOURCE_GROUP}`, 'azure-test', rev);
const small = { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 };

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

describe('azure-vm recovery and limits', () => {
  it('recovers a VM left Failed (AllocationFailed) from a new process without changing its SSH key', async () => {
    const r = revision('failed-vm', { resources: small });
    const env = environment([{ id: 'dep-failed', revisions: [r] }]);
    fake.addFault({
      method: 'PUT',
      path: /virtualMachines\//,
      times: 1,
      operationError: {
        code: 'AllocationFailed',
        message: 'Allocation failed. We do not have sufficient capacity for the requested VM size in this region.',
      },
    });
    const first = await rejection((await deployer()).warmRevision(env, 'failed-vm', opts()));
    expect(first).toMatchObject({ code: 'Provider', retryable: true });
    const vm = () =>
      fake.store.list('Microsoft.Compute/virtualMachines').find((v) => v.name === names('failed-vm').vm(0))!;
    expect(vm().properties.provisioningState).toBe('Failed');
    const keyOf = () =>
      JSON.stringify((vm().properties.osProfile as { linuxConfiguration?: unknown }).linuxConfiguration);
    const key = keyOf();

    // bp retries the step in a new process: a new deployer instance, no ssh_public_key configured.
    const mark = fake.journal.length;
    await (await deployer()).warmRevision(env, 'failed-vm', opts());
    expect(fake.journal.slice(mark).filter((j) => j.status === 409)).toEqual([]);
    expect(vm().properties.provisioningState).toBe('Succeeded');
    expect(keyOf()).toBe(key);
    await (await deployer()).archiveRevision(env, 'failed-vm', opts());
  });

  it('refuses custom data over 65,535 bytes before any call', async () => {
    const d = await deployer();
    const r = revision('too-big', {
      resources: small,
      artifact: { image: 'myregistry.azurecr.io/web:1', env: { BLOB: 'x'.repeat(MAX_CUSTOM_DATA - 600) } },
    });
    const env = environment([{ id: 'dep-big', revisions: [r] }]);
    const mark = fake.journal.length;
    const e = await rejection(d.warmRevision(env, 'too-big', opts()));
    expect(e.message).toContain(`limit of ${MAX_CUSTOM_DATA} bytes`);
    expect(fake.journal.slice(mark).filter((j) => j.method === 'PUT')).toEqual([]);
  });

  it('records the split Traffic Manager enforces (per mille), keeps 3 profile tags for 24 revisions, health path follows the file', async () => {
    const d = await deployer();
    const revs = Array.from({ length: 24 }, (_, k) =>
      revision(`many-${k}`, {
        resources: small,
        health: { http_path: k === 1 ? '/v2/ready' : '/healthz', timeout_seconds: 10 },
      }),
    );
    // 24 revisions: the old per-endpoint tags (3 + 2 per revision) would be 51, over ARM's 50.
    await Promise.all(
      revs.map((r) => d.warmRevision(environment([{ id: 'many', revisions: revs }]), r.revision_id, opts())),
    );
    const canary = environment([
      {
        id: 'many',
        revisions: revs,
        traffic: [
          ...split(['many-0', 9995], ['many-1', 5]),
          ...revs.slice(2).map((r) => ({ revision_id: r.revision_id, weight_bps: 0 })),
        ],
      },
    ]);
    const applied = await d.applyTrafficSplit(canary, 'many', opts());
    expect(applied.applied_entries.slice(0, 2)).toEqual(split(['many-0', 9990], ['many-1', 10]));
    const seen = await d.observe(canary, opts());
    expect(seen.splits.many).toEqual(applied.applied_entries);
    const profile = () =>
      fake.store.list('Microsoft.Network/trafficManagerProfiles').find((p) => p.tags?.['bp-deployment'] === 'many')!;
    expect(Object.keys(profile().tags ?? {})).toHaveLength(3);
    expect((profile().properties.monitorConfig as { path: string }).path).toBe('/healthz');

    // Promote the revision with a new health path: the profile probes that path now.
    const promoted = environment([
      {
        id: 'many',
        revisions: revs,
        traffic: [
          ...split(['many-0', 0], ['many-1', 10000]),
          ...revs.slice(2).map((r) => ({ revision_id: r.revision_id, weight_bps: 0 })),
        ],
      },
    ]);
    await d.applyTrafficSplit(promoted, 'many', opts());
    expect((profile().properties.monitorConfig as { path: string }).path).toBe('/v2/ready');

    // 24 revisions' VMs, NICs, IPs and load balancers were listed across pages of 3.
    expect(
      fake.journal.some((j) => j.method === 'GET' && j.path.endsWith('/virtualMachines') && /skiptoken/.test(j.query)),
    ).toBe(true);
    await takeDown(d, promoted);
  }, 180_000);
});
