/**
 * azure-vm through the real Azure SDKs against the fake Resource Manager (HTTPS, throwaway
 * certificate): lifecycle, canary and promotion, drain, archive with routing release, drift
 * (a VM deleted or stopped out of band, a weight changed out of band), weight rounding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/azure-vm.js';
import { revisionNames } from '../../src/deployers/azure-vm/names.js';
import { fromTrafficManager, toTrafficManager } from '../../src/deployers/azure-vm/weights.js';
import type { Deployer } from '../../src/model/deployer.js';
import { FAKE_RESOURCE_GROUP, FAKE_SUBSCRIPTION, type FakeArm } from '../fakes/azure/server.js';
import { environment, fakeConfig, opts, revision, silent, split, startFake } from './azure-vm-fixtures.js';
import { takeDown } from '../helpers/take-down.js';

let fake: FakeArm;
let deployer: Deployer;

beforeAll(async () => {
  fake = await startFake({ opDelayMs: 15, timings: { bootMs: 60, healthyAfterMs: 100 } });
  deployer = await plugin.create(fakeConfig(fake), { logger: silent, stateDir: '/nonexistent' });
});
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

const scope = `${FAKE_SUBSCRIPTION}/${FAKE_RESOURCE_GROUP}`;
const names = (env: string, rev: string) => revisionNames(scope, env, rev);
const ofType = (type: string) => fake.store.list(type, fake.groupId);
const vmsOf = (rev: string) =>
  ofType('Microsoft.Compute/virtualMachines').filter((v) => v.tags?.['bp-revision'] === rev);
type Endpoint = { name: string; properties: { weight: number; endpointStatus: string; targetResourceId: string } };
const profileOf = (deploymentId: string) =>
  ofType('Microsoft.Network/trafficManagerProfiles').find((p) => p.tags?.['bp-deployment'] === deploymentId);
const endpointsOf = (deploymentId: string) =>
  Object.fromEntries(
    ((profileOf(deploymentId)?.properties.endpoints as Endpoint[] | undefined) ?? []).map((e) => [
      e.name,
      { weight: e.properties.weight, status: e.properties.endpointStatus },
    ]),
  );

describe('azure-vm lifecycle against the fake Resource Manager', () => {
  it('stages, warms, splits 90/10, promotes, drains and archives, releasing the profile last', async () => {
    const v1 = revision('Web.v1', { artifact: { image: 'myregistry.azurecr.io/web:1', env: { TOKEN: 's3cret' } } });
    const v2 = revision('Web.v2');
    const n1 = names('azure-test', 'Web.v1');
    const n2 = names('azure-test', 'Web.v2');
    let env = environment([{ id: 'web', revisions: [v1, v2], traffic: split(['Web.v1', 10000]) }]);

    const staged = await deployer.stageRevision(env, 'Web.v1', opts());
    expect(staged.outputs).toMatchObject({ vm_size: 'Standard_B1s', public_ip: n1.publicIp });
    expect(fake.store.all().filter((r) => r.tags?.['bp-managed-by'] === 'bp')).toEqual([]);

    const warmed = await deployer.warmRevision(env, 'Web.v1', opts());
    expect(warmed.endpoint).toBe(`http://${n1.base}.westeurope.cloudapp.azure.com:80`);
    const vms = vmsOf('Web.v1');
    expect(vms.map((v) => v.name).sort()).toEqual([n1.vm(0), n1.vm(1)]);
    expect(vms[0].tags).toMatchObject({
      'bp-environment': 'azure-test',
      'bp-deployment': 'web',
      'bp-revision': 'Web.v1',
    });
    expect(vms[0].properties.hardwareProfile).toEqual({ vmSize: 'Standard_B1s' });
    // The custom data runs the image with the env and PORT; ARM keeps it write-only.
    const cloudInit = Buffer.from(fake.guests.customData.get(vms[0].id.toLowerCase())!, 'base64').toString('utf8');
    expect(cloudInit).toContain(
      "docker run --rm --name bp-app --env-file /etc/bp/docker.env -p 8080:8080 'myregistry.azurecr.io/web:1'",
    );
    expect(cloudInit).toContain('      PORT=8080');
    expect(cloudInit).toContain('      TOKEN=s3cret');
    const lb = ofType('Microsoft.Network/loadBalancers').find((l) => l.name === n1.loadBalancer)!;
    expect((lb.properties.probes as Array<{ properties: unknown }>)[0].properties).toMatchObject({
      protocol: 'Http',
      port: 8080,
      requestPath: '/healthz',
    });
    // Every PUT and DELETE was followed through its Azure-AsyncOperation URL.
    expect(
      fake.requests('GET', /\/providers\/Microsoft\.Compute\/locations\/westeurope\/operations\//).length,
    ).toBeGreaterThan(0);

    await deployer.applyTrafficSplit(env, 'web', opts());
    expect(endpointsOf('web')).toEqual({ [n1.base]: { weight: 1000, status: 'Enabled' } });
    const profile = profileOf('web')!;
    expect(profile.properties).toMatchObject({ trafficRoutingMethod: 'Weighted', dnsConfig: { ttl: 30 } });

    await deployer.warmRevision(env, 'Web.v2', opts());
    env = environment([{ id: 'web', revisions: [v1, v2], traffic: split(['Web.v1', 9000], ['Web.v2', 1000]) }]);
    const canary = await deployer.applyTrafficSplit(env, 'web', opts());
    expect(canary).toEqual({
      applied_deployment_id: 'web',
      applied_entries: split(['Web.v1', 9000], ['Web.v2', 1000]),
    });
    expect(endpointsOf('web')).toEqual({
      [n1.base]: { weight: 900, status: 'Enabled' },
      [n2.base]: { weight: 100, status: 'Enabled' },
    });
    let seen = await deployer.observe(env, opts());
    expect(seen.splits.web).toEqual(split(['Web.v1', 9000], ['Web.v2', 1000]));
    expect(seen.revisions['Web.v2']).toEqual({ present: true, healthy: true });

    env = environment([{ id: 'web', revisions: [v1, v2], traffic: split(['Web.v1', 0], ['Web.v2', 10000]) }]);
    await deployer.applyTrafficSplit(env, 'web', opts());
    // Traffic Manager has no weight 0: the promoted-away revision's endpoint is Disabled.
    expect(endpointsOf('web')).toEqual({
      [n1.base]: { weight: 1, status: 'Disabled' },
      [n2.base]: { weight: 1000, status: 'Enabled' },
    });
    expect((await deployer.observe(env, opts())).splits.web).toEqual(split(['Web.v1', 0], ['Web.v2', 10000]));

    const t0 = Date.now();
    await deployer.drainRevision(env, 'Web.v1', opts());
    expect(vmsOf('Web.v1').map((v) => fake.guests.power(v.id))).toEqual(['deallocated', 'deallocated']);
    expect((await deployer.observe(env, opts())).revisions['Web.v1']).toEqual({ present: true, healthy: false });
    expect(Date.now() - t0).toBeLessThan(5000);

    await deployer.archiveRevision(env, 'Web.v1', opts());
    expect(fake.store.all().filter((r) => r.tags?.['bp-revision'] === 'Web.v1')).toEqual([]);
    expect(endpointsOf('web')).toEqual({ [n2.base]: { weight: 1000, status: 'Enabled' } });
    seen = await deployer.observe(env, opts());
    expect(seen.revisions['Web.v1']).toEqual({ present: false, healthy: false });
    expect(seen.splits.web).toEqual(split(['Web.v2', 10000]));
    await deployer.archiveRevision(env, 'Web.v1', opts());

    // Archive alone never deletes the profile: its last endpoint is refused, changing nothing.
    await expect(deployer.archiveRevision(env, 'Web.v2', opts())).rejects.toMatchObject({ code: 'RoutingNotReleased' });
    expect(vmsOf('Web.v2')).not.toEqual([]);
    await takeDown(deployer, env);
    expect(profileOf('web')).toBeUndefined();
    expect(fake.store.all().filter((r) => r.tags?.['bp-managed-by'] === 'bp')).toEqual([]);
    expect((await deployer.observe(env, opts())).splits).toEqual({});
  });

  it('drain disables the endpoint, waits drain_seconds, and a second drain finds nothing to do', async () => {
    const a = revision('drain-a', { resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 } });
    const b = revision('drain-b', { resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 }, drain_seconds: 1 });
    const env = environment([
      { id: 'drains', revisions: [a, b], traffic: split(['drain-a', 5000], ['drain-b', 5000]) },
    ]);
    await Promise.all([deployer.warmRevision(env, 'drain-a', opts()), deployer.warmRevision(env, 'drain-b', opts())]);
    await deployer.applyTrafficSplit(env, 'drains', opts());
    const t0 = Date.now();
    await deployer.drainRevision(env, 'drain-b', opts());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(endpointsOf('drains')[names('azure-test', 'drain-b').base]).toEqual({ weight: 500, status: 'Disabled' });
    expect((await deployer.observe(env, opts())).splits.drains).toEqual(split(['drain-a', 10000], ['drain-b', 0]));
    const t1 = Date.now();
    const puts = fake.requests('PUT', /trafficmanagerprofiles/).length;
    await deployer.drainRevision(env, 'drain-b', opts());
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(fake.requests('PUT', /trafficmanagerprofiles/).length).toBe(puts);
    await takeDown(deployer, env);
    expect(profileOf('drains')).toBeUndefined();
  });

  it('sees a VM deleted or deallocated out of band as drift, and the next warm repairs it', async () => {
    const r = revision('drift-v1');
    const env = environment([{ id: 'drifty', revisions: [r], traffic: split(['drift-v1', 10000]) }]);
    const first = await deployer.warmRevision(env, 'drift-v1', opts());
    await deployer.applyTrafficSplit(env, 'drifty', opts());
    const n = names('azure-test', 'drift-v1');

    // Deleted with the real SDK, as an operator's script or the portal would.
    const { ComputeManagementClient } = await import('@azure/arm-compute');
    const { readFileSync } = await import('node:fs');
    const token = {
      getToken: async () => ({ token: process.env.BP_TEST_AZURE_TOKEN!, expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const outside = new ComputeManagementClient(token, FAKE_SUBSCRIPTION, {
      endpoint: fake.endpoint,
      tlsOptions: { ca: readFileSync(fake.caFile, 'utf8') },
    });
    await outside.virtualMachines.delete(FAKE_RESOURCE_GROUP, n.vm(1), { updateIntervalInMs: 20 });
    expect((await deployer.observe(env, opts())).revisions['drift-v1']).toEqual({ present: true, healthy: false });
    const again = await deployer.warmRevision(env, 'drift-v1', opts());
    expect(again.endpoint).toBe(first.endpoint);
    expect(
      vmsOf('drift-v1')
        .map((v) => v.name)
        .sort(),
    ).toEqual([n.vm(0), n.vm(1)]);
    expect((await deployer.observe(env, opts())).revisions['drift-v1']).toEqual({ present: true, healthy: true });

    await outside.virtualMachines.deallocate(FAKE_RESOURCE_GROUP, n.vm(0), { updateIntervalInMs: 20 });
    expect((await deployer.observe(env, opts())).revisions['drift-v1'].healthy).toBe(false);
    await deployer.warmRevision(env, 'drift-v1', opts());
    expect(fake.requests('POST', new RegExp(`${n.vm(0)}/start$`))).toHaveLength(1);
    expect((await deployer.observe(env, opts())).revisions['drift-v1'].healthy).toBe(true);
    await takeDown(deployer, env);
  });

  it('reports the split Traffic Manager enforces (per mille), and rescaled wire weights after a change outside bp', async () => {
    const revs = ['r-a', 'r-b', 'r-c'].map((id) =>
      revision(id, { resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 } }),
    );
    const traffic = split(['r-a', 3333], ['r-b', 3333], ['r-c', 3334]);
    const env = environment([{ id: 'thirds', revisions: revs, traffic }]);
    await Promise.all(revs.map((r) => deployer.warmRevision(env, r.revision_id, opts())));
    const applied = await deployer.applyTrafficSplit(env, 'thirds', opts());
    expect(Object.values(endpointsOf('thirds')).map((e) => e.weight)).toEqual([333, 333, 334]);
    const enforced = split(['r-a', 3330], ['r-b', 3330], ['r-c', 3340]);
    expect(applied.applied_entries).toEqual(enforced);
    expect((await deployer.observe(env, opts())).splits.thirds).toEqual(enforced);

    // An operator moves weight in the portal: observe shows what Traffic Manager really does.
    const { TrafficManagerManagementClient } = await import('@azure/arm-trafficmanager');
    const { readFileSync } = await import('node:fs');
    const token = {
      getToken: async () => ({ token: process.env.BP_TEST_AZURE_TOKEN!, expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const outside = new TrafficManagerManagementClient(token, FAKE_SUBSCRIPTION, {
      endpoint: fake.endpoint,
      $host: fake.endpoint,
      tlsOptions: { ca: readFileSync(fake.caFile, 'utf8') },
    });
    await outside.endpoints.update(
      FAKE_RESOURCE_GROUP,
      profileOf('thirds')!.name,
      'AzureEndpoints',
      names('azure-test', 'r-a').base,
      { weight: 500 },
    );
    const drifted = (await deployer.observe(env, opts())).splits.thirds;
    expect(drifted.map((e) => e.weight_bps)).toEqual(
      fromTrafficManager([
        { weight: 500, enabled: true },
        { weight: 333, enabled: true },
        { weight: 334, enabled: true },
      ]),
    );
    await deployer.applyTrafficSplit(env, 'thirds', opts());
    expect((await deployer.observe(env, opts())).splits.thirds).toEqual(enforced);
    await takeDown(deployer, env);
    expect(profileOf('thirds')).toBeUndefined();
  });
});

describe('basis points to Traffic Manager weights', () => {
  it('maps bps / 10 by largest remainder, keeps weight 1 for any traffic, and disables 0', () => {
    const w = (...bps: number[]) =>
      toTrafficManager(bps.map((weight_bps, i) => ({ revision_id: `r${i}`, weight_bps })));
    expect(w(9000, 1000)).toEqual([
      { weight: 900, enabled: true },
      { weight: 100, enabled: true },
    ]);
    expect(w(3333, 3333, 3334)).toEqual([
      { weight: 333, enabled: true },
      { weight: 333, enabled: true },
      { weight: 334, enabled: true },
    ]);
    expect(w(9996, 4)).toEqual([
      { weight: 999, enabled: true },
      { weight: 1, enabled: true },
    ]);
    expect(w(0, 10000)).toEqual([
      { weight: 1, enabled: false },
      { weight: 1000, enabled: true },
    ]);
    expect(
      fromTrafficManager([
        { weight: 900, enabled: true },
        { weight: 100, enabled: true },
      ]),
    ).toEqual([9000, 1000]);
    expect(
      fromTrafficManager([
        { weight: 7, enabled: false },
        { weight: 3, enabled: true },
      ]),
    ).toEqual([0, 10000]);
    expect(
      fromTrafficManager([
        { weight: 1, enabled: true },
        { weight: 1, enabled: true },
        { weight: 1, enabled: true },
      ]),
    ).toEqual([3334, 3333, 3333]);
  });
});
