/**
 * VM sizes as Azure offers them per location and zone (test/fakes/azure/BEHAVIOUR.md, "VM sizes"):
 * the fake lists its catalog (Resource Skus - List, paginated) and refuses a VM whose size is not
 * offered where it is placed with 409 SkuNotAvailable; bp checks the size at stage, so a size the
 * subscription cannot have is refused as final, naming sizes offered there, before the public IP,
 * load balancer or any VM exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/azure-vm.js';
import type { Deployer } from '../../src/model/deployer.js';
import { FAKE_LOCATION, type FakeArm } from '../fakes/azure/server.js';
import { armRequest, environment, fakeConfig, opts, revision, silent, startFake } from './azure-vm-fixtures.js';

let fake: FakeArm;
const deployers: Deployer[] = [];

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 50, healthyAfterMs: 80 }, pageSize: 4 });
});
afterAll(async () => {
  await Promise.all(deployers.map((d) => d.close?.()));
  await fake.close();
});

async function deployerWith(vmSize: string): Promise<Deployer> {
  const d = await plugin.create(fakeConfig(fake, { vm_size: vmSize }), { logger: silent, stateDir: '/nonexistent' });
  deployers.push(d);
  return d;
}

const one = (id: string) => {
  const r = revision(id, { resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 } });
  return environment([{ id: `dep-${id}`, revisions: [r] }]);
};

const putVm = (name: string, size: string, zones?: string[]) =>
  armRequest(fake, 'PUT', `${fake.groupId}/providers/Microsoft.Compute/virtualMachines/${name}`, {
    location: FAKE_LOCATION,
    ...(zones ? { zones } : {}),
    properties: { hardwareProfile: { vmSize: size }, osProfile: { adminUsername: 'bp', adminPassword: 'x' } },
  });

describe('azure fake: VM sizes per location and zone', () => {
  it('refuses a size not offered in the location or the requested zone with 409 SkuNotAvailable', async () => {
    const big = await putVm('gpu-big', 'Standard_NC64as_T4_v3');
    expect(big.status).toBe(409);
    expect(big.body.error?.code).toBe('SkuNotAvailable');
    expect(big.body.error?.message).toMatch(
      /Standard_NC64as_T4_v3' is currently not available in location 'westeurope'/,
    );
    const zone2 = await putVm('gpu-z2', 'Standard_NC4as_T4_v3', ['2']);
    expect([zone2.status, zone2.body.error?.message]).toEqual([409, expect.stringMatching(/zones '2'/)]);
    const unknown = await putVm('no-such', 'Standard_Q9_v9');
    expect([unknown.status, unknown.body.error?.code]).toEqual([400, 'InvalidParameter']);
    expect(fake.store.list('Microsoft.Compute/virtualMachines')).toHaveLength(0);
  });

  it('lists its catalog per location, page by page, with each restriction', async () => {
    const skus: Array<{ name: string; restrictions: Array<{ type: string; restrictionInfo: { zones?: string[] } }> }> =
      [];
    let path = `/subscriptions/${fake.groupId.split('/')[2]}/providers/Microsoft.Compute/skus`;
    let query = `2021-07-01&$filter=${encodeURIComponent("location eq 'westeurope'")}`;
    for (;;) {
      const page = await armRequest(fake, 'GET', path, undefined, query);
      skus.push(...(page.body.value as typeof skus));
      if (!page.body.nextLink) break;
      const next = new URL(String(page.body.nextLink));
      path = next.pathname;
      query = `${next.searchParams.get('api-version')}&${[...next.searchParams]
        .filter(([k]) => k !== 'api-version')
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join('&')}`;
    }
    expect(skus.length).toBeGreaterThan(4);
    expect(new Set(skus.map((s) => s.name)).size).toBe(skus.length);
    expect(skus.find((s) => s.name === 'Standard_NC4as_T4_v3')?.restrictions).toEqual([
      expect.objectContaining({ type: 'Zone', restrictionInfo: { locations: ['westeurope'], zones: ['2'] } }),
    ]);
  });

  it('a warm with a size the subscription cannot have in the location fails as final at stage, creating nothing', async () => {
    const d = await deployerWith('Standard_NC64as_T4_v3');
    const env = one('gpu-v1');
    const before = fake.journal.length;
    const failure = d.warmRevision(env, 'gpu-v1', opts());
    await expect(failure).rejects.toMatchObject({ retryable: false });
    await expect(failure).rejects.toThrow(
      /Standard_NC64as_T4_v3 is not offered to this subscription in westeurope \(NotAvailableForSubscription\).*Standard_B1s.*Standard_NC4as_T4_v3/,
    );
    const after = fake.journal.slice(before);
    expect(after.filter((j) => j.method === 'PUT')).toEqual([]);
    // The whole location's list was read, page after page.
    expect(after.filter((j) => /\/skus$/.test(j.path)).length).toBeGreaterThan(1);
  });

  it('a size offered regionally (restricted in one zone only) stages and warms; the list is read once per size', async () => {
    const d = await deployerWith('Standard_NC4as_T4_v3');
    const before = fake.journal.length;
    await d.warmRevision(one('t4-v1'), 't4-v1', opts());
    await d.stageRevision(one('t4-v1'), 't4-v1', opts());
    const after = fake.journal.slice(before);
    const firstPages = after.filter((j) => /\/skus$/.test(j.path) && !j.query.includes('skiptoken'));
    expect(firstPages).toHaveLength(1);
    const vms = fake.store.list('Microsoft.Compute/virtualMachines');
    expect(vms.map((v) => (v.properties.hardwareProfile as { vmSize: string }).vmSize)).toEqual([
      'Standard_NC4as_T4_v3',
    ]);
    await d.archiveRevision(one('t4-v1'), 't4-v1', opts());
  });

  it('a size withdrawn after the check is refused at the VM PUT as final, with advice to change the size', async () => {
    const d = await deployerWith('Standard_D2s_v5');
    await d.stageRevision(one('d2-v1'), 'd2-v1', opts());
    fake.skuRestrictions.push({ size: 'Standard_D2s_v5', location: FAKE_LOCATION });
    const failure = d.warmRevision(one('d2-v1'), 'd2-v1', opts());
    await expect(failure).rejects.toMatchObject({ retryable: false });
    await expect(failure).rejects.toThrow(/SkuNotAvailable.*choose another vm_size or location/);
    fake.skuRestrictions.pop();
    await d.archiveRevision(one('d2-v1'), 'd2-v1', opts());
  });
});
