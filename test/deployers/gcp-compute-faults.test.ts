/**
 * gcp-compute under failure: throttling and 5xx (retryable, retried with the same requestId),
 * quota errors, synchronous and inside operations (not retryable), partial failure resumed by
 * a second warm, a workload that never turns healthy, latency with an aborted signal.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/gcp-compute.js';
import type { Deployer } from '../../src/model/deployer.js';
import { revisionNames } from '../../src/deployers/gcp-compute/names.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { environment, fakeConfig, globalScope, opts, revision, startFake, zoneScope } from './gcp-compute-fixtures.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };
let fake: FakeGce;
let deployer: Deployer;

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 60, healthyAfterMs: 120 } });
  deployer = await plugin.create(fakeConfig(fake), { logger, stateDir: '/nonexistent' });
});
afterEach(() => fake.clearFaults());
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

const one = (id: string, over = {}) => {
  const r = revision(id, { resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 }, ...over });
  return { r, env: environment([{ id: `dep-${id}`, revisions: [r] }]) };
};

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

describe('gcp-compute under provider faults', () => {
  it('makes one attempt per call: a throttled mutation is a retryable error, and the retried verb creates it once', async () => {
    const { env } = one('throttled');
    fake.addFault({
      method: 'POST',
      path: /\/global\/backendServices$/,
      times: 1,
      status: 403,
      reason: 'rateLimitExceeded',
      message: 'Rate Limit Exceeded',
    });
    const throttled = await rejection(deployer.warmRevision(env, 'throttled', opts()));
    expect(throttled).toMatchObject({ code: 'Provider', retryable: true });
    // The engine retries the verb (docs/deployers/gcp-compute.md, Provider calls); neither the deployer nor the SDK does.
    await deployer.warmRevision(env, 'throttled', opts());
    const inserts = fake.journal.filter((j) => j.method === 'POST' && j.path.endsWith('/global/backendServices'));
    expect(inserts.map((j) => j.status)).toEqual([403, 200]);
    expect((await deployer.observe(env, opts())).revisions.throttled).toEqual({ present: true, healthy: true });
    await deployer.archiveRevision(env, 'throttled', opts());
  });

  it('reports persistent throttling and server errors as retryable provider errors', async () => {
    const { env } = one('busy');
    fake.addFault({
      method: 'POST',
      path: /instanceTemplates$/,
      status: 429,
      reason: 'rateLimitExceeded',
      message: 'Quota exceeded for quota metric Queries',
    });
    const throttled = await rejection(deployer.stageRevision(env, 'busy', opts()));
    expect(throttled).toMatchObject({ code: 'Provider', retryable: true });
    expect(throttled.message).toContain('rateLimitExceeded');
    fake.clearFaults();
    fake.addFault({
      method: 'GET',
      path: /instanceGroupManagers\//,
      status: 503,
      reason: 'backendError',
      message: 'Backend Error',
    });
    const unavailable = await rejection(deployer.warmRevision(env, 'busy', opts()));
    expect(unavailable).toMatchObject({ code: 'Provider', retryable: true });
    fake.clearFaults();
    await deployer.archiveRevision(env, 'busy', opts());
  });

  it('reports quota errors, synchronous or inside an operation, as not retryable and creates nothing', async () => {
    const { env } = one('quota');
    const group = revisionNames('gcp-test', 'quota').group;
    fake.addFault({
      method: 'POST',
      path: /instanceGroupManagers$/,
      times: 1,
      status: 403,
      reason: 'quotaExceeded',
      message: "Quota 'CPUS' exceeded. Limit: 8.0 in region us-central1.",
    });
    const sync = await rejection(deployer.warmRevision(env, 'quota', opts()));
    expect(sync).toMatchObject({ code: 'Provider', retryable: false });
    expect(sync.message).toMatch(/quota/i);

    fake.addFault({
      method: 'POST',
      path: /instanceGroupManagers$/,
      times: 1,
      operationError: {
        code: 'QUOTA_EXCEEDED',
        message: "Quota 'INSTANCES' exceeded. Limit: 24.0 in region us-central1.",
      },
    });
    const inOperation = await rejection(deployer.warmRevision(env, 'quota', opts()));
    expect(inOperation).toMatchObject({ code: 'Provider', retryable: false });
    expect(inOperation.message).toContain('QUOTA_EXCEEDED');
    expect(fake.store.get(`${zoneScope}/instanceGroupManagers/${group}`)).toBeUndefined();
    await deployer.archiveRevision(env, 'quota', opts());
    expect((await deployer.observe(env, opts())).revisions.quota.present).toBe(false);
  });

  it('resumes a partially failed warm: the second warm creates only what is missing', async () => {
    const { env } = one('partial');
    const names = revisionNames('gcp-test', 'partial');
    fake.addFault({
      method: 'POST',
      path: /\/global\/backendServices$/,
      status: 500,
      reason: 'internalError',
      message: 'Internal Error',
    });
    const failed = await rejection(deployer.warmRevision(env, 'partial', opts()));
    expect(failed).toMatchObject({ code: 'Provider', retryable: true });
    expect(fake.store.get(`${zoneScope}/instanceGroupManagers/${names.group}`)).toBeDefined();
    expect((await deployer.observe(env, opts())).revisions.partial).toEqual({ present: true, healthy: false });

    fake.clearFaults();
    const before = fake.journal.length;
    await deployer.warmRevision(env, 'partial', opts());
    const resumed = fake.journal
      .slice(before)
      .filter((j) => j.method === 'POST' && !j.path.endsWith('/wait') && !j.path.endsWith('/getHealth'));
    expect(resumed.map((j) => j.path.split('/').slice(-1)[0])).toEqual(
      ['instanceTemplates', 'healthChecks', 'backendServices'].filter((k) => resumed.some((j) => j.path.endsWith(k))),
    );
    expect(resumed.some((j) => j.path.endsWith('/instanceGroupManagers'))).toBe(false);
    expect((await deployer.observe(env, opts())).revisions.partial).toEqual({ present: true, healthy: true });
    await deployer.archiveRevision(env, 'partial', opts());
    expect(fake.list(globalScope, 'backendServices').map((b) => b.name)).not.toContain(names.backendService);
  });

  it('fails warm with a retryable error naming the health check when the image never serves', async () => {
    const { env } = one('unpullable', {
      artifact: { image: 'registry.invalid/team/app:1', env: {} },
      health: { http_path: '/ready', timeout_seconds: 1 },
    });
    const e = await rejection(deployer.warmRevision(env, 'unpullable', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: true });
    expect(e.message).toContain('/ready');
    expect(e.message).toContain('0 of 1 VMs');
    await deployer.archiveRevision(env, 'unpullable', opts());
  });

  it('rejects a malformed image reference at stage, before any API call', async () => {
    const { env } = one('badref', { artifact: { image: 'Not A Reference', env: {} } });
    const before = fake.journal.length;
    const e = await rejection(deployer.stageRevision(env, 'badref', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(fake.journal.length).toBe(before);
  });

  it('stops waiting on a slow API as soon as the signal aborts', async () => {
    const { env } = one('slow');
    fake.addFault({ path: /\/operations\/.*\/wait$/, delayMs: 5000 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = rejection(deployer.stageRevision(env, 'slow', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    const e = await pending;
    expect(e.code).toBe('Aborted');
    expect(Date.now() - started).toBeLessThan(3000);
    fake.clearFaults();
    await deployer.archiveRevision(env, 'slow', opts());
  });
});
