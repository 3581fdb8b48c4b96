/**
 * The fake Compute Engine refuses what the API refuses (test/fakes/gcp/BEHAVIOUR.md): bodies
 * checked against the Compute v1 model shipped in @google-cloud/compute (unknown names, JSON
 * types, enums), required fields, methods a collection lacks, per-zone machine types, quotas
 * (in the operation for inserts, in listErrors for a group's VMs), fingerprints and pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOptions, loadSdk } from '../../src/deployers/gcp-compute/sdk.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { PROJECT, startFake } from './gcp-compute-fixtures.js';

let fake: FakeGce;
let token = '';
const base = () => `${fake.endpoint}/compute/v1/projects/${PROJECT}`;

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 5, pageSize: 2 });
  const exchange = await fetch(`${fake.endpoint}/v1/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 't' }),
  });
  token = ((await exchange.json()) as { access_token: string }).access_token;
});
afterAll(() => fake.close());

type Answer = { status: number; body: Record<string, any> };

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${base()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Inserts and waits for the operation; returns the finished operation. */
async function insert(path: string, body: unknown): Promise<Record<string, any>> {
  const { status, body: op } = await call('POST', path, body);
  expect(status, JSON.stringify(op)).toBe(200);
  const scope = path.startsWith('/zones/') ? path.split('/').slice(0, 3).join('/') : '/global';
  let current = op;
  while (current.status !== 'DONE') current = (await call('POST', `${scope}/operations/${op.name}/wait`)).body;
  return current;
}

const template = (name: string, machineType = 'e2-small') => ({
  name,
  properties: {
    machineType,
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' },
      },
    ],
    networkInterfaces: [{ network: 'global/networks/default' }],
  },
});
const group = (name: string, tpl: string, targetSize: number) => ({
  name,
  baseInstanceName: name,
  instanceTemplate: `global/instanceTemplates/${tpl}`,
  targetSize,
});

describe('fake GCE: request validation against the published model', () => {
  it('refuses unknown names, wrong JSON types and values outside an enum, as the API parses JSON', async () => {
    const unknown = await call('POST', '/global/healthChecks', {
      name: 'hc-a',
      type: 'HTTP',
      httpHealthCheck: {},
      bogus: 1,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe(
      `Invalid JSON payload received. Unknown name "bogus" at 'resource': Cannot find field.`,
    );
    expect(unknown.body.error.status).toBe('INVALID_ARGUMENT');
    const nested = await call('POST', '/global/instanceTemplates', {
      name: 'it-a',
      properties: { machine_type: 'e2-small' },
    });
    expect(nested.body.error.message).toContain(`Unknown name "machine_type" at 'resource.properties'`);
    const typed = await call('POST', '/global/healthChecks', { name: 'hc-b', type: 'HTTP', checkIntervalSec: 'often' });
    expect(typed.status).toBe(400);
    expect(typed.body.error.message).toBe(`Invalid value at 'resource.check_interval_sec' (TYPE_INT32), "often"`);
    const listed = await call('POST', '/global/backendServices', {
      name: 'bs-a',
      loadBalancingScheme: 'EXTERNAL_FANCY',
    });
    expect(listed.body.error.message).toContain(`'resource.load_balancing_scheme' (TYPE_ENUM LoadBalancingScheme)`);
    expect(fake.list(`projects/${PROJECT}/global`, 'healthChecks')).toHaveLength(0);
  });

  it('refuses missing required fields, out-of-range values and methods the collection does not have', async () => {
    expect((await call('POST', '/global/healthChecks', { type: 'HTTP', httpHealthCheck: {} })).body.error.message).toBe(
      "Required field 'resource.name' not specified",
    );
    expect((await call('POST', '/global/instanceTemplates', { name: 'it-b', properties: {} })).body.error.message).toBe(
      "Required field 'resource.properties.machineType' not specified",
    );
    const hc = await call('POST', '/global/healthChecks', {
      name: 'hc-c',
      type: 'HTTP',
      httpHealthCheck: {},
      timeoutSec: 10,
      checkIntervalSec: 5,
    });
    expect(hc.body.error.message).toContain('timeoutSec must be less than or equal to checkIntervalSec');
    expect((await insert('/global/instanceTemplates', template('it-c'))).error).toBeUndefined();
    // Instance templates are immutable: the API has no patch or update for them.
    expect((await call('PATCH', '/global/instanceTemplates/it-c', { description: 'x' })).status).toBe(405);
    const mig = await call('POST', '/zones/us-central1-a/instanceGroupManagers', {
      ...group('ig-c', 'it-c', 1),
      baseInstanceName: undefined,
    });
    expect(mig.body.error.message).toBe("Required field 'resource.baseInstanceName' not specified");
  });

  it('through the real SDK: unknown names never reach the wire, enum values do and are refused', async () => {
    const sdk = await loadSdk();
    const client = new (sdk.HealthChecksClient as new (o: unknown) => any)(clientOptions(PROJECT, fake.endpoint));
    const [op] = await client.insert(
      {
        project: PROJECT,
        healthCheckResource: { name: 'hc-sdk', type: 'HTTP', httpHealthCheck: { port: 80 }, bogus: 1 },
      },
      { maxRetries: 0 },
    );
    expect(op.latestResponse.status).toBeDefined();
    // protobufjs' fromObject drops fields the model lacks: the service never sees them.
    expect(fake.journal.at(-1)!.body).toEqual({ name: 'hc-sdk', type: 'HTTP', httpHealthCheck: { port: 80 } });
    await expect(
      client.insert({ project: PROJECT, healthCheckResource: { name: 'hc-sdk2', type: 'HTTPX' } }, { maxRetries: 0 }),
    ).rejects.toThrow(/TYPE_ENUM Type/);
    await client.close();
  });
});

describe('fake GCE: zones, quotas, fingerprints, pages', () => {
  it('offers G2 machine types only in the zones that have them', async () => {
    expect((await call('GET', '/zones/us-central1-f/machineTypes/g2-standard-4')).status).toBe(404);
    expect((await call('GET', '/zones/us-central1-a/machineTypes/g2-standard-4')).body).toMatchObject({
      guestCpus: 4,
      accelerators: [{ guestAcceleratorType: 'nvidia-l4', guestAcceleratorCount: 1 }],
    });
    await insert('/global/instanceTemplates', template('it-gpu', 'g2-standard-4'));
    const refused = await call('POST', '/zones/us-central1-f/instanceGroupManagers', group('ig-gpu', 'it-gpu', 1));
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain(
      "Machine type with name 'g2-standard-4' does not exist in zone 'us-central1-f'",
    );
    expect(fake.list(`projects/${PROJECT}/zones/us-central1-f`, 'instances')).toHaveLength(0);
  });

  it('ends an insert over a quota in a 403 QUOTA_EXCEEDED operation and reports usage in regions.get', async () => {
    const used = fake.list(`projects/${PROJECT}/global`, 'healthChecks').length;
    fake.quotas.set({ HEALTH_CHECKS: used });
    const op = await insert('/global/healthChecks', { name: 'hc-over', type: 'HTTP', httpHealthCheck: {} });
    expect(op.httpErrorStatusCode).toBe(403);
    expect(op.error.errors[0]).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: `Quota 'HEALTH_CHECKS' exceeded.  Limit: ${used}.0 globally.`,
    });
    expect((await call('GET', '/global/healthChecks/hc-over')).status).toBe(404);
    fake.quotas.set({ HEALTH_CHECKS: 50 });

    fake.quotas.set({ CPUS: 4 });
    await insert('/global/instanceTemplates', template('it-q'));
    expect(
      (await insert('/zones/us-central1-a/instanceGroupManagers', group('ig-q', 'it-q', 3))).error,
    ).toBeUndefined();
    // e2-small has 2 vCPUs: two VMs fit in 4, the third is refused and the group records why.
    const managed = await call('POST', '/zones/us-central1-a/instanceGroupManagers/ig-q/listManagedInstances');
    expect(managed.body.managedInstances).toHaveLength(2);
    const errors = await call('POST', '/zones/us-central1-a/instanceGroupManagers/ig-q/listErrors');
    expect(errors.body.items[0].error).toEqual({
      code: 'QUOTA_EXCEEDED',
      message: "Quota 'CPUS' exceeded.  Limit: 4.0 in region us-central1.",
    });
    const region = await call('GET', '/regions/us-central1');
    expect(region.body.quotas).toContainEqual({ metric: 'CPUS', limit: 4, usage: 4 });
    expect((await call('GET', '/zones/us-central1-a/instanceGroupManagers/ig-q')).body.status).toEqual({
      isStable: false,
    });
    fake.quotas.set({ CPUS: 24 });
  });

  it('gives fingerprints to the resources that have them and refuses a stale one', async () => {
    const mig = (await call('GET', '/zones/us-central1-a/instanceGroupManagers/ig-q')).body;
    expect(mig.fingerprint).toEqual(expect.any(String));
    const stale = await call('PATCH', '/zones/us-central1-a/instanceGroupManagers/ig-q', {
      fingerprint: 'c3RhbGU=',
      targetSize: 1,
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error.errors[0].reason).toBe('conditionNotMet');
    const vm = (await call('GET', '/zones/us-central1-a/instances')).body.items[0];
    expect(vm).toMatchObject({ fingerprint: expect.any(String), labelFingerprint: expect.any(String) });
    expect(vm.metadata.fingerprint).toEqual(expect.any(String));
    expect(vm.tags.fingerprint).toEqual(expect.any(String));
  });

  it('pages every list, operations included, and refuses maxResults over 500', async () => {
    const first = await call('GET', '/global/operations');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextPageToken).toBeDefined();
    const second = await call('GET', `/global/operations?pageToken=${first.body.nextPageToken}`);
    expect(second.body.items[0].name).not.toBe(first.body.items[0].name);
    expect((await call('GET', '/global/instanceTemplates?maxResults=501')).status).toBe(400);
  });
});
