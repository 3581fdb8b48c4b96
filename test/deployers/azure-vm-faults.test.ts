/**
 * azure-vm under failure: throttling (429 with Retry-After, absorbed by the SDK's retry policy
 * or surfaced as retryable), 5xx, core quota refused at once (OperationNotAllowed) or ending an
 * asynchronous operation (QuotaExceeded), a Failed VM re-created by the next warm, a workload
 * that never turns healthy, a bad image reference, latency with an aborted signal.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/azure-vm.js';
import { revisionNames } from '../../src/deployers/azure-vm/names.js';
import type { Deployer } from '../../src/model/deployer.js';
import { FAKE_RESOURCE_GROUP, FAKE_SUBSCRIPTION, type FakeArm } from '../fakes/azure/server.js';
import { environment, fakeConfig, opts, revision, silent, startFake } from './azure-vm-fixtures.js';

let fake: FakeArm;
let deployer: Deployer;

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 50, healthyAfterMs: 80 } });
  deployer = await plugin.create(fakeConfig(fake), { logger: silent, stateDir: '/nonexistent' });
});
afterEach(() => fake.clearFaults());
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

const names = (rev: string) => revisionNames(`${FAKE_SUBSCRIPTION}/${FAKE_RESOURCE_GROUP}`, 'azure-test', rev);
const one = (id: string, over = {}) => {
  const r = revision(id, { resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 }, ...over });
  return { r, env: environment([{ id: `dep-${id}`, revisions: [r] }]) };
};
const leftOf = (rev: string) => fake.store.all().filter((r) => r.tags?.['bp-revision'] === rev);

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

describe('azure-vm under provider faults', () => {
  it('rides out throttling: the SDK retries a 429 after its Retry-After, and the PUT creates the VM once', async () => {
    const { env } = one('throttled');
    fake.addFault({
      method: 'PUT',
      path: /virtualMachines\//,
      times: 2,
      status: 429,
      code: 'TooManyRequests',
      message: 'The request is being throttled.',
      retryAfterSeconds: 1,
    });
    const t0 = Date.now();
    await deployer.warmRevision(env, 'throttled', opts());
    const puts = fake.requests('PUT', /virtualMachines\//);
    expect(puts.map((j) => j.status)).toEqual([429, 429, 201]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(leftOf('throttled').filter((r) => r.type === 'Microsoft.Compute/virtualMachines')).toHaveLength(1);
    expect((await deployer.observe(env, opts())).revisions.throttled).toEqual({ present: true, healthy: true });
    await deployer.archiveRevision(env, 'throttled', opts());
  });

  it('reports persistent throttling and server errors as retryable provider errors', async () => {
    const { env } = one('busy');
    const mark = fake.journal.length;
    fake.addFault({
      method: 'PUT',
      path: /publicIPAddresses\//,
      status: 429,
      code: 'TooManyRequests',
      message: 'The request is being throttled.',
      retryAfterSeconds: 0,
    });
    const throttled = await rejection(deployer.warmRevision(env, 'busy', opts()));
    expect(throttled).toMatchObject({ code: 'Provider', retryable: true });
    expect(throttled.message).toContain('TooManyRequests');
    // max_retries 2: the first answer and two retries.
    expect(
      fake.journal
        .slice(mark)
        .filter((j) => j.method === 'PUT' && /publicIPAddresses\//.test(j.path))
        .map((j) => j.status),
    ).toEqual([429, 429, 429]);
    fake.clearFaults();
    fake.addFault({
      method: 'GET',
      path: /networkInterfaces\//,
      status: 503,
      code: 'ServiceUnavailable',
      message: 'The service is temporarily unavailable.',
    });
    const unavailable = await rejection(deployer.warmRevision(env, 'busy', opts()));
    expect(unavailable).toMatchObject({ code: 'Provider', retryable: true });
    expect(unavailable.message).toContain('HTTP 503');
    fake.clearFaults();
    await deployer.archiveRevision(env, 'busy', opts());
    expect(leftOf('busy')).toEqual([]);
  });

  it('reports core quota, refused at once or ending the operation, as not retryable', async () => {
    const { env } = one('quota', { resources: { cpu: 0.25, memory_mb: 256, replicas: 2, gpu: 0 } });
    const limit = fake.coresLimit;
    fake.coresLimit = fake.store.list('Microsoft.Compute/virtualMachines').length + 1;
    try {
      const refused = await rejection(deployer.warmRevision(env, 'quota', opts()));
      expect(refused).toMatchObject({ code: 'Provider', retryable: false });
      expect(refused.message).toContain('OperationNotAllowed');
      expect(refused.message).toMatch(/quota increase/);
      expect(fake.requests('PUT', /virtualMachines\//).filter((j) => j.status === 409)).toHaveLength(1);
    } finally {
      fake.coresLimit = limit;
    }
    await deployer.archiveRevision(env, 'quota', opts());

    const late = one('late-quota');
    fake.addFault({
      method: 'PUT',
      path: /virtualMachines\//,
      times: 1,
      operationError: {
        code: 'QuotaExceeded',
        message:
          'Operation results in exceeding quota limits of Core. Maximum allowed: 4, Current in use: 4, Additional requested: 1.',
      },
    });
    const failed = await rejection(deployer.warmRevision(late.env, 'late-quota', opts()));
    expect(failed).toMatchObject({ code: 'Provider', retryable: false });
    expect(failed.message).toContain('QuotaExceeded');
    // The VM is left in provisioningState Failed, as ARM leaves it; observe counts it as unhealthy.
    const vm = fake.store.list('Microsoft.Compute/virtualMachines').find((v) => v.name === names('late-quota').vm(0))!;
    expect(vm.properties.provisioningState).toBe('Failed');
    expect((await deployer.observe(late.env, opts())).revisions['late-quota']).toEqual({
      present: true,
      healthy: false,
    });

    // Partial failure resumed: the next warm re-PUTs only the Failed VM, not the network it already has.
    const mark = fake.journal.length;
    await deployer.warmRevision(late.env, 'late-quota', opts());
    const puts = fake.journal
      .slice(mark)
      .filter((j) => j.method === 'PUT')
      .map((j) => j.path.split('/').slice(-2)[0]);
    expect(puts).toEqual(['virtualMachines']);
    expect((await deployer.observe(late.env, opts())).revisions['late-quota']).toEqual({
      present: true,
      healthy: true,
    });
    await deployer.archiveRevision(late.env, 'late-quota', opts());
    expect(leftOf('late-quota')).toEqual([]);
  });

  it('fails warm with a retryable error naming the probe when the image never serves', async () => {
    const { env } = one('unpullable', {
      artifact: { image: 'registry.invalid/team/app:1', env: {} },
      health: { http_path: '/ready', timeout_seconds: 1 },
    });
    const e = await rejection(deployer.warmRevision(env, 'unpullable', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: true });
    expect(e.message).toContain('/ready');
    expect(e.message).toContain('0 of 1 VMs');
    await deployer.archiveRevision(env, 'unpullable', opts());
    expect(leftOf('unpullable')).toEqual([]);
  });

  it('rejects a malformed image reference at stage, before any API call', async () => {
    const { env } = one('badref', { artifact: { image: 'Not A Reference', env: {} } });
    const before = fake.journal.length;
    const e = await rejection(deployer.stageRevision(env, 'badref', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(fake.journal.length).toBe(before);
  });

  it('refuses a split that routes to a revision with no public IP, as retryable, and writes no profile', async () => {
    const r = revision('cold');
    const env = environment([
      { id: 'cold-dep', revisions: [r], traffic: [{ revision_id: 'cold', weight_bps: 10000 }] },
    ]);
    const e = await rejection(deployer.applyTrafficSplit(env, 'cold-dep', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: true });
    expect(e.message).toContain('warm it first');
    expect(fake.requests('PUT', /trafficmanagerprofiles/).length).toBe(0);
  });

  it('stops polling a slow operation as soon as the signal aborts', async () => {
    const { env } = one('slow');
    fake.addFault({ path: /\/operations\//, delayMs: 5000 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = rejection(deployer.warmRevision(env, 'slow', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    const e = await pending;
    expect(e.code).toBe('Aborted');
    expect(Date.now() - started).toBeLessThan(3000);
    fake.clearFaults();
    await deployer.archiveRevision(env, 'slow', opts());
    expect(leftOf('slow')).toEqual([]);
  });
});
