/**
 * Refresh that scales: azure-vm's `observe` of an environment of 1,000 revisions reads one
 * paginated list per resource type (VMs, NICs, load balancers, public IPs, Traffic Manager
 * profiles), VM power states from one paginated listAll with `statusOnly=true`, and makes
 * per-revision calls only where ARM has no list form: the load-balancing rule's health (a
 * long-running POST). Counted in the fake's journal; the fake pages every list (5 items).
 * The provider side is put in the fake's store directly, not created through the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../../src/deployers/azure-vm.js';
import {
  countBy,
  PAGE,
  pages,
  REVISIONS,
  scaleDeclarations,
  observeSeeded,
  type ScaleDeployment,
} from './scale-fixtures.js';
import { deploymentNames, revisionNames, revisionTags, TAGS } from '../../src/deployers/azure-vm/names.js';
import { ENDPOINT_TYPE } from '../../src/deployers/azure-vm/routing.js';
import { RULE } from '../../src/deployers/azure-vm/revision.js';
import type { Deployer } from '../../src/model/deployer.js';
import { FAKE_RESOURCE_GROUP, FAKE_SUBSCRIPTION, type FakeArm } from '../fakes/azure/server.js';
import { environment, fakeConfig, revision, silent, split, startFake } from './azure-vm-fixtures.js';

const ENV = 'big';
const scope = `${FAKE_SUBSCRIPTION}/${FAKE_RESOURCE_GROUP}`;

let fake: FakeArm;
let deployer: Deployer;
beforeAll(async () => {
  fake = await startFake({ opDelayMs: 0, pageSize: PAGE, timings: { bootMs: 0, healthyAfterMs: 0 } });
  deployer = await plugin.create(fakeConfig(fake), { logger: silent, stateDir: '/nonexistent' });
});
afterAll(async () => {
  await deployer.close?.();
  await fake.close();
});

/** Builds the provider side directly in the fake, as 1,000 warms and 200 splits would leave it. */
function seed(deployments: ScaleDeployment[]): void {
  const id = (type: string, name: string) => `${fake.groupId}/providers/${type}/${name}`;
  const put = (type: string, name: string, tags: Record<string, string>, properties: Record<string, unknown>) =>
    fake.store.put({
      id: id(type, name),
      name,
      type,
      location: 'global',
      tags,
      properties: { provisioningState: 'Succeeded', ...properties },
    });
  for (const d of deployments) {
    const endpoints: unknown[] = [];
    for (const [k, rev] of d.revisions.entries()) {
      const n = revisionNames(scope, ENV, rev);
      const tags = revisionTags(ENV, d.id, rev);
      const lb = id('Microsoft.Network/loadBalancers', n.loadBalancer);
      const pool = `${lb}/backendAddressPools/pool`;
      put('Microsoft.Network/publicIPAddresses', n.publicIp, tags, {});
      put('Microsoft.Network/loadBalancers', n.loadBalancer, tags, {
        backendAddressPools: [{ id: pool, name: 'pool', properties: {} }],
        probes: [{ id: `${lb}/probes/health`, name: 'health', properties: {} }],
        loadBalancingRules: [{ name: RULE, id: `${lb}/loadBalancingRules/${RULE}`, properties: {} }],
      });
      const vm = put('Microsoft.Compute/virtualMachines', n.vm(0), tags, {});
      fake.guests.boot(vm.id, undefined);
      const nic = id('Microsoft.Network/networkInterfaces', n.nic(0));
      put('Microsoft.Network/networkInterfaces', n.nic(0), tags, {
        virtualMachine: { id: vm.id },
        ipConfigurations: [
          {
            id: `${nic}/ipConfigurations/ipconfig`,
            properties: {
              privateIPAddress: `10.0.${Math.floor(k / 250)}.${k % 250}`,
              loadBalancerBackendAddressPools: [{ id: pool }],
            },
          },
        ],
      });
      endpoints.push({
        name: n.base,
        type: ENDPOINT_TYPE,
        properties: {
          targetResourceId: id('Microsoft.Network/publicIPAddresses', n.publicIp),
          weight: k === 0 ? 1000 : 1,
          endpointStatus: k === 0 ? 'Enabled' : 'Disabled',
        },
      });
    }
    put(
      'Microsoft.Network/trafficManagerProfiles',
      deploymentNames(scope, ENV, d.id).profile,
      { [TAGS.managedBy]: 'bp', [TAGS.environment]: ENV, [TAGS.deployment]: d.id },
      { profileStatus: 'Enabled', monitorConfig: { path: '/healthz' }, endpoints },
    );
  }
}

describe('azure-vm observe at scale', () => {
  it('observes 1,000 revisions with paginated lists and bounded per-revision health calls', async () => {
    const { seen, calls } = await observeSeeded(deployer, fake.journal, seed, (ds) =>
      environment(scaleDeclarations(ds, revision), ENV),
    );
    // Logged before the checks, so a failing run still shows what it measured.
    console.log(`azure-vm observe: ${calls.length} requests`);

    expect(Object.values(seen.revisions).filter((r) => r.present && r.healthy)).toHaveLength(REVISIONS);
    expect(seen.splits.d7).toEqual(split(['d7-r0', 10000], ['d7-r1', 0], ['d7-r2', 0], ['d7-r3', 0], ['d7-r4', 0]));
    const measured = countBy(calls, (j) =>
      j.query.includes('statusOnly=true')
        ? 'list VM power states'
        : /\/providers\/[^/]+\/([A-Za-z]+)$/.test(j.path)
          ? `list ${/([A-Za-z]+)$/.exec(j.path)![1]}`
          : j.path.endsWith('/instanceView')
            ? 'instanceView'
            : /\/health$/.test(j.path)
              ? 'rule health'
              : /operation/i.test(j.path)
                ? 'operation polls'
                : `${j.method} ${j.path}`,
    );
    console.log(`azure-vm observe of ${REVISIONS} revisions: ${calls.length} calls ${JSON.stringify(measured)}`);
    const { 'operation polls': polls = 0, ...rest } = measured;
    expect(rest).toEqual({
      'list virtualMachines': pages(REVISIONS),
      'list networkInterfaces': pages(REVISIONS),
      'list loadBalancers': pages(REVISIONS),
      'list publicIPAddresses': pages(REVISIONS),
      // One answer: Traffic Manager does not page its lists.
      'list trafficmanagerprofiles': 1,
      // Subscription-wide (this fake subscription holds only these VMs).
      'list VM power states': pages(REVISIONS),
      // No list form: per revision, the rule's health (a long-running POST, polled).
      'rule health': REVISIONS,
    });
    expect(polls).toBeLessThanOrEqual(2 * REVISIONS);
  }, 180_000);

  it('falls back to one instance view per VM when a resource-group role cannot list the subscription (403)', async () => {
    fake.addFault({
      method: 'GET',
      path: /^GET \/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines$/,
      status: 403,
      code: 'AuthorizationFailed',
      message:
        'The client does not have authorization to perform action Microsoft.Compute/virtualMachines/read over scope /subscriptions/x.',
    });
    try {
      const { seen, calls } = await observeSeeded(deployer, fake.journal, seed, (ds) =>
        environment(scaleDeclarations(ds, revision), ENV),
      );
      expect(Object.values(seen.revisions).filter((r) => r.present && r.healthy)).toHaveLength(REVISIONS);
      expect(calls.filter((j) => j.query.includes('statusOnly=true')).map((j) => j.status)).toEqual([403]);
      expect(calls.filter((j) => j.path.endsWith('/instanceView'))).toHaveLength(REVISIONS);
    } finally {
      fake.clearFaults();
    }
  }, 180_000);
});
