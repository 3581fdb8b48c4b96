/**
 * The Azure fake refuses request bodies as Resource Manager does (test/fakes/azure/BEHAVIOUR.md,
 * "Request validation"): bodies are checked against the SDKs' own models, so a member the model
 * does not have, or a value of the wrong kind, is refused with the provider's error, and
 * read-only members a GET returned are ignored on the way back in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkSchemas } from '../fakes/azure/mapper-schema.js';
import { FAKE_LOCATION, type FakeArm } from '../fakes/azure/server.js';
import { checkBody } from '../fakes/azure/wire-schema.js';
import { armRequest, startFake } from './azure-vm-fixtures.js';

let fake: FakeArm;

beforeAll(async () => {
  fake = await startFake();
});
afterAll(() => fake.close());

const send = (method: string, path: string, body?: unknown, apiVersion?: string) =>
  armRequest(fake, method, path, body, apiVersion);
const network = (kind: string, name: string) => `${fake.groupId}/providers/Microsoft.Network/${kind}/${name}`;
const vmPath = (name: string) => `${fake.groupId}/providers/Microsoft.Compute/virtualMachines/${name}`;

async function nic(name: string): Promise<string> {
  const r = await send('PUT', network('networkInterfaces', name), {
    location: FAKE_LOCATION,
    properties: { ipConfigurations: [{ name: 'ipconfig', properties: { subnet: { id: fake.subnetId } } }] },
  });
  expect(r.status).toBe(201);
  return String(r.body.id);
}

function vmBody(
  nicId: string,
  over: {
    hardwareProfile?: Record<string, unknown>;
    top?: Record<string, unknown>;
    properties?: Record<string, unknown>;
  } = {},
) {
  return {
    location: FAKE_LOCATION,
    ...over.top,
    properties: {
      hardwareProfile: { vmSize: 'Standard_B1s', ...over.hardwareProfile },
      osProfile: { computerName: 'vm', adminUsername: 'bp', adminPassword: 'Secret-123456' },
      networkProfile: { networkInterfaces: [{ id: nicId, properties: { deleteOption: 'Delete' } }] },
      ...over.properties,
    },
  };
}

/** A VM body with a storage profile: `osDisk` on top of the image and managed disk bp sends, `dataDisks`. */
const withOsDisk = (
  nicId: string,
  osDisk: Record<string, unknown>,
  more: Record<string, unknown> = {},
  dataDisks?: unknown[],
) =>
  vmBody(nicId, {
    properties: {
      storageProfile: {
        imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
        osDisk: { createOption: 'FromImage', managedDisk: { storageAccountType: 'StandardSSD_LRS' }, ...osDisk },
        ...(dataDisks ? { dataDisks } : {}),
      },
      ...more,
    },
  });

describe('azure fake: request bodies against the SDK models', () => {
  it('refuses a member the compute model does not have, naming its type and path, and creates nothing', async () => {
    const nicId = await nic('strict-nic-1');
    const r = await send('PUT', vmPath('strict-1'), vmBody(nicId, { hardwareProfile: { vmSzie: 'Standard_B2s' } }));
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('InvalidRequestFormat');
    expect(r.body.error?.details?.[0]).toEqual({
      code: 'InvalidJson',
      message:
        "Could not find member 'vmSzie' on object of type 'HardwareProfile'. Path 'properties.hardwareProfile.vmSzie'.",
    });
    expect((await send('GET', vmPath('strict-1'))).status).toBe(404);
  });

  it('refuses an unknown top-level member at the Resource Manager envelope', async () => {
    const nicId = await nic('strict-nic-2');
    const r = await send('PUT', vmPath('strict-2'), vmBody(nicId, { top: { zone: '1' } }));
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('InvalidRequestContent');
    expect(r.body.error?.message).toContain("Could not find member 'zone' on object of type 'ResourceDefinition'");
  });

  it('ignores read-only members a GET returned (GET, change, PUT round trip)', async () => {
    const nicId = await nic('strict-nic-3');
    const created = await send('PUT', vmPath('strict-3'), vmBody(nicId));
    expect(created.status).toBe(201);
    const vmId = (created.body.properties as { vmId: string }).vmId;
    const again = {
      ...vmBody(nicId),
      id: created.body.id,
      name: 'strict-3',
      type: 'Microsoft.Compute/virtualMachines',
      properties: { ...vmBody(nicId).properties, provisioningState: 'Succeeded', vmId: 'not-mine' },
    };
    await expect.poll(async () => (await send('PUT', vmPath('strict-3'), again)).status).toBe(200);
    const read = await send('GET', vmPath('strict-3'));
    expect((read.body.properties as { vmId: string }).vmId).toBe(vmId);
  });

  it('refuses network bodies with unknown members or values of the wrong kind', async () => {
    const unknown = await send('PUT', network('publicIPAddresses', 'strict-ip'), {
      location: FAKE_LOCATION,
      sku: { name: 'Standard' },
      properties: { publicIPAllocationMethod: 'Static', dnsSettings: { domainNameLable: 'x' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'InvalidRequestFormat', message: 'Cannot parse the request.' });
    expect(unknown.body.error?.details?.[0].message).toContain(
      "Could not find member 'domainNameLable' on object of type 'PublicIPAddressDnsSettings'",
    );
    const wrongKind = await send('PUT', network('publicIPAddresses', 'strict-ip'), {
      location: FAKE_LOCATION,
      properties: { idleTimeoutInMinutes: 'four' },
    });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error?.details?.[0].message).toMatch(/Error converting value "four".*idleTimeoutInMinutes/);
    const tags = await send('PUT', network('publicIPAddresses', 'strict-ip'), {
      location: FAKE_LOCATION,
      tags: { team: { name: 'web' } },
    });
    expect(tags.status).toBe(400);
    expect(tags.body.error?.details?.[0].message).toContain("Path 'tags.team'");
  });

  it('refuses a Traffic Manager endpoint PATCH with a member the model does not have', async () => {
    const profile = network('trafficmanagerprofiles', 'strict-tm');
    const put = await send(
      'PUT',
      profile,
      {
        location: 'global',
        properties: {
          trafficRoutingMethod: 'Weighted',
          dnsConfig: { relativeName: 'strict-tm', ttl: 30 },
          monitorConfig: { protocol: 'HTTP', port: 80, path: '/' },
          endpoints: [
            {
              name: 'ext',
              type: 'Microsoft.Network/trafficManagerProfiles/externalEndpoints',
              properties: { target: 'example.com', weight: 5 },
            },
          ],
        },
      },
      '2022-04-01',
    );
    expect(put.status).toBe(201);
    const patch = await send('PATCH', `${profile}/externalEndpoints/ext`, { properties: { wieght: 7 } }, '2022-04-01');
    expect(patch.status).toBe(400);
    expect(patch.body.error?.details?.[0].message).toContain(
      "Could not find member 'wieght' on object of type 'EndpointProperties'",
    );
  });

  it('applies the constraints a mapper states (InclusiveMaximum)', () => {
    const settings = networkSchemas().composite('PacketCaptureSettings');
    expect(checkBody({ fileCount: 10 }, settings)).toEqual({ fileCount: 10 });
    expect(() => checkBody({ fileCount: 10001 }, settings)).toThrow(/'fileCount' is invalid: at most 10000/);
  });

  it('lists Traffic Manager profiles in one answer (ProfileListResult has no nextLink), other lists page by page', async () => {
    for (let i = 0; i < 6; i++) {
      const put = await send(
        'PUT',
        network('trafficmanagerprofiles', `page-tm-${i}`),
        {
          location: 'global',
          properties: { trafficRoutingMethod: 'Weighted', dnsConfig: { relativeName: `page-tm-${i}` }, endpoints: [] },
        },
        '2022-04-01',
      );
      expect(put.status).toBe(201);
      await nic(`page-nic-${i}`);
    }
    const profiles = await send(
      'GET',
      `${fake.groupId}/providers/Microsoft.Network/trafficmanagerprofiles`,
      undefined,
      '2022-04-01',
    );
    expect(profiles.body.nextLink).toBeUndefined();
    expect((profiles.body.value as unknown[]).length).toBeGreaterThanOrEqual(6);
    const nics = await send('GET', `${fake.groupId}/providers/Microsoft.Network/networkInterfaces`);
    expect((nics.body.value as unknown[]).length).toBe(5);
    expect(nics.body.nextLink).toMatch(/skiptoken/);
  });

  it('refuses names and tags past Resource Manager limits', async () => {
    const ip = (name: string, tags: Record<string, string> = {}) =>
      send('PUT', network('publicIPAddresses', name), { location: FAKE_LOCATION, tags, properties: {} });
    expect((await ip('x'.repeat(81))).body.error?.code).toBe('InvalidResourceName');
    expect((await ip('ends-with-hyphen-')).body.error?.code).toBe('InvalidResourceName');
    expect((await ip('ok-ip', { 'a/b': 'v' })).body.error?.code).toBe('InvalidTagNameCharacters');
    expect((await ip('ok-ip', { team: 'v'.repeat(257) })).body.error?.code).toBe('InvalidTag');
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']));
    expect((await ip('ok-ip', many)).status).toBe(400);
    const vm = await send('PUT', vmPath('under_score'), { location: FAKE_LOCATION, properties: {} });
    expect(vm.body.error?.code).toBe('InvalidResourceName');
    expect((await ip('ok-ip', { team: 'web' })).status).toBe(201);
  });
});

describe("azure fake: VM leaf values against the SDK's published .d.ts models (compute-leaf-types.ts)", () => {
  /** PUTs `body` as a raw client would and answers the provider's refusal (details[0] for InvalidRequestFormat). */
  async function refusal(name: string, body: unknown) {
    const r = await send('PUT', vmPath(name), body);
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect((await send('GET', vmPath(name))).status).toBe(404);
    return r.body.error!;
  }
  const json = (message: string) => ({
    code: 'InvalidRequestFormat',
    message: 'Cannot parse the request.',
    details: [{ code: 'InvalidJson', message }],
  });

  it('refuses values a number or boolean member cannot take, as Json.NET reads them', async () => {
    const nicId = await nic('leaf-nic-1');
    // `diskSizeGB?: number`, `diskIOPSReadWrite` (client name diskIopsReadWrite), `maxPrice?: number`:
    // the declarations do not say int32 or double, so the check is Json.NET's for a number.
    const disk = "Path 'properties.storageProfile.osDisk.diskSizeGB'.";
    expect(await refusal('leaf-1', withOsDisk(nicId, { diskSizeGB: 'thirty' }))).toEqual(
      json(`Error converting value "thirty" to type 'Number'. ${disk}`),
    );
    expect(await refusal('leaf-1', withOsDisk(nicId, { diskSizeGB: true }))).toEqual(
      json(`Error converting value true to type 'Number'. ${disk}`),
    );
    const dataDisk = { lun: 0, createOption: 'Empty', diskSizeGB: 8, diskIOPSReadWrite: { iops: 500 } };
    expect(await refusal('leaf-1', withOsDisk(nicId, {}, {}, [dataDisk]))).toEqual(
      json(
        `Error converting value {"iops":500} to type 'Number'. Path 'properties.storageProfile.dataDisks[0].diskIOPSReadWrite'.`,
      ),
    );
    expect(await refusal('leaf-1', vmBody(nicId, { properties: { billingProfile: { maxPrice: 'cheap' } } }))).toEqual(
      json(`Error converting value "cheap" to type 'Number'. Path 'properties.billingProfile.maxPrice'.`),
    );
    const linux = (v: unknown) =>
      vmBody(nicId, {
        properties: {
          osProfile: {
            computerName: 'vm',
            adminUsername: 'bp',
            adminPassword: 'Secret-123456',
            linuxConfiguration: { disablePasswordAuthentication: v },
          },
        },
      });
    expect(await refusal('leaf-1', linux('yes'))).toEqual(
      json(
        "Could not convert string to boolean: yes. Path 'properties.osProfile.linuxConfiguration.disablePasswordAuthentication'.",
      ),
    );
    expect(await refusal('leaf-1', linux(['true']))).toEqual(
      json(
        "Error reading boolean. Unexpected token: StartArray. Path 'properties.osProfile.linuxConfiguration.disablePasswordAuthentication'.",
      ),
    );
  });

  it('keeps what Json.NET converts: "30" for a number is 30, "True" for a boolean is true, a primitive for a string is its text', async () => {
    const nicId = await nic('leaf-nic-2');
    const body = withOsDisk(
      nicId,
      { diskSizeGB: '30' },
      {
        osProfile: {
          computerName: true,
          adminUsername: 'bp',
          adminPassword: 'Secret-123456',
          linuxConfiguration: { disablePasswordAuthentication: 'True' },
        },
      },
    );
    const put = await send('PUT', vmPath('leaf-2'), body);
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const p = (await send('GET', vmPath('leaf-2'))).body.properties as {
      storageProfile: { osDisk: { diskSizeGB: unknown } };
      osProfile: { computerName: unknown; linuxConfiguration: { disablePasswordAuthentication: unknown } };
    };
    expect(p.storageProfile.osDisk.diskSizeGB).toBe(30);
    expect(p.osProfile.computerName).toBe('true');
    expect(p.osProfile.linuxConfiguration.disablePasswordAuthentication).toBe(true);
  });

  it('refuses a value outside a closed enum (a string-literal union) and accepts any string for an extensible one (`= string`)', async () => {
    const nicId = await nic('leaf-nic-3');
    expect(await refusal('leaf-3', withOsDisk(nicId, { caching: 'Sometimes' }))).toEqual(
      json(
        `Error converting value "Sometimes" to type 'CachingTypes'. Path 'properties.storageProfile.osDisk.caching'.`,
      ),
    );
    expect(await refusal('leaf-3', withOsDisk(nicId, { osType: 1 }))).toEqual(
      json("Error converting value 1 to type 'OperatingSystemTypes'. Path 'properties.storageProfile.osDisk.osType'."),
    );
    expect(await refusal('leaf-3', vmBody(nicId, { top: { identity: { type: 'Everyone' } } }))).toEqual(
      json(`Error converting value "Everyone" to type 'ResourceIdentityType'. Path 'identity.type'.`),
    );
    // CachingTypes matches case-insensitively; VirtualMachinePriorityTypes and StorageAccountTypes
    // are extensible: the deserializer takes any string (what the service then does with it is not modelled).
    const open = withOsDisk(
      nicId,
      { caching: 'readwrite', managedDisk: { storageAccountType: 'Nope' } },
      { priority: 'Cheap' },
    );
    const put = await send('PUT', vmPath('leaf-3'), open);
    expect(put.status, JSON.stringify(put.body)).toBe(201);
  });

  it('refuses a member declared without `?` with InvalidParameter naming it, null included', async () => {
    const nicId = await nic('leaf-nic-4');
    const missing = await refusal('leaf-4', withOsDisk(nicId, { createOption: undefined }));
    expect(missing).toEqual({
      code: 'InvalidParameter',
      target: 'osDisk.createOption',
      message: "Required parameter 'osDisk.createOption' is missing (null).",
    });
    expect(await refusal('leaf-4', withOsDisk(nicId, { createOption: null }))).toEqual(missing);
    const noLun = withOsDisk(nicId, {}, {}, [{ createOption: 'Empty', diskSizeGB: 8 }]);
    expect(await refusal('leaf-4', noLun)).toMatchObject({
      code: 'InvalidParameter',
      target: 'dataDisks[0].lun',
      message: "Required parameter 'dataDisks[0].lun' is missing (null).",
    });
  });

  it('takes the VM size as a string (Json.NET) and then refuses it as a size', async () => {
    const nicId = await nic('leaf-nic-5');
    const r = await send('PUT', vmPath('leaf-5'), vmBody(nicId, { hardwareProfile: { vmSize: 5 } }));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: 'InvalidParameter',
      message: 'The value 5 provided for the VM size is not valid.',
    });
  });
});
