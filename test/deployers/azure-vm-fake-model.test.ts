/**
 * The fake's virtual machine model is the one `@azure/arm-compute` publishes: the members and
 * nesting its generated (de)serializers read and write (compute-schema.ts), with the leaf types of
 * its `.d.ts` models laid over them (compute-dts-model.ts, compute-leaf-types.ts). The bodies bp's
 * deployer builds pass it and every member bp sends has a declared type, so the fake's refusals
 * can be trusted to be the SDK models'. The declaration parser is checked on a small `.d.ts`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsFrom } from '../../src/deployers/azure-vm/config.js';
import { revisionNames } from '../../src/deployers/azure-vm/names.js';
import { vmModel } from '../../src/deployers/azure-vm/vm-model.js';
import { computeDtsModel, parseDeclarations } from '../fakes/azure/compute-dts-model.js';
import { withDeclaredTypes } from '../fakes/azure/compute-leaf-types.js';
import { computeModels, computeSchema } from '../fakes/azure/compute-schema.js';
import type { FakeArm } from '../fakes/azure/server.js';
import { FAKE_RESOURCE_GROUP, FAKE_SUBSCRIPTION } from '../fakes/azure/server.js';
import { checkBody, type WireField, type WireType } from '../fakes/azure/wire-schema.js';
import { environment, fakeConfig, revision } from './azure-vm-fixtures.js';

const vmSchema = async () => withDeclaredTypes(await computeSchema('virtualMachine'), await computeModels());

/** The VM PUT body bp sends: the deployer's model through the SDK's own serializer. */
async function wireBody(over: Parameters<typeof fakeConfig>[1] = {}, existing = false): Promise<unknown> {
  const subnetId = `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${FAKE_RESOURCE_GROUP}/providers/Microsoft.Network/virtualNetworks/bp-vnet/subnets/apps`;
  const s = settingsFrom(
    fakeConfig({ subnetId, endpoint: 'https://127.0.0.1:1', caFile: '/dev/null' } as FakeArm, over),
  );
  const rev = revision('r1');
  const env = environment([{ id: 'web', revisions: [rev] }]);
  const target = {
    environmentId: env.environment_id,
    deployment: env.deployments[0],
    revision: rev,
    names: revisionNames(`${s.subscription_id}/${s.resource_group}`, env.environment_id, rev.revision_id),
  };
  const sdkBody = vmModel(s, {
    target,
    index: 0,
    tags: { 'bp-env': env.environment_id },
    sshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBp bp@test',
    nicId: `${subnetId.split('/providers/')[0]}/providers/Microsoft.Network/networkInterfaces/${target.names.nic(0)}`,
    ...(existing
      ? { existing: { adminUsername: 'olduser', linuxConfiguration: { ssh: { publicKeys: [{ keyData: 'k' }] } } } }
      : {}),
  });
  return (await computeModels()).virtualMachineSerializer(sdkBody);
}

/** Every leaf of `body` with the wire type the schema gives it (`properties.hardwareProfile.vmSize`). */
function leaves(body: unknown, t: WireType, path = ''): Array<[string, string]> {
  if (t.kind === 'Composite') {
    return Object.entries(body as Record<string, unknown>).flatMap(([k, v]) => {
      const f = t.fields.get(k);
      if (!f) throw new Error(`no member ${path}${k}`);
      return v === undefined ? [] : leaves(v, f.type, `${path}${k}.`);
    });
  }
  if (t.kind === 'Sequence') return (body as unknown[]).flatMap((v, i) => leaves(v, t.element.type, `${path}${i}.`));
  if (t.kind === 'Dictionary')
    return Object.entries(body as Record<string, unknown>).flatMap(([k, v]) =>
      leaves(v, t.value.type, `${path}{${k}}.`),
    );
  return [[path.slice(0, -1), t.kind]];
}

/**
 * Every writable leaf of the schema, by path (`properties.storageProfile.osDisk.caching`); a type
 * nested in itself is followed once.
 */
function writableLeaves(schema: WireType): Map<string, WireField> {
  const out = new Map<string, WireField>();
  const walk = (f: WireField, path: string, above: Set<WireType>): void => {
    if (f.readOnly) return;
    const t = f.type;
    if (t.kind === 'Composite') {
      if (above.has(t)) return;
      const inner = new Set(above).add(t);
      t.fields.forEach((m, k) => walk(m, path ? `${path}.${k}` : k, inner));
    } else if (t.kind === 'Sequence') walk(t.element, `${path}[]`, above);
    else if (t.kind === 'Dictionary') walk(t.value, `${path}{}`, above);
    else out.set(path, f);
  };
  walk({ type: schema }, '', new Set());
  return out;
}

describe("fake ARM: the VM model from @azure/arm-compute's published .d.ts models", () => {
  it('is the model of @azure/arm-compute 24.1, which sends api-version 2026-03-01 for virtual machines', () => {
    // BEHAVIOUR.md names both: a new SDK shows up here, to be re-read against the service.
    expect(computeDtsModel().sdkVersion).toMatch(/^24\.1\./);
    const dir = dirname(createRequire(import.meta.url).resolve('@azure/arm-compute/package.json'));
    const ops = readFileSync(join(dir, 'dist/esm/api/virtualMachines/operations.js'), 'utf8');
    const sent = new Set([...ops.matchAll(/apiVersion: "([^"]+)"/g)].map((m) => m[1]));
    expect([...sent]).toEqual(['2026-03-01']);
  });

  it("accepts the bodies bp's deployer builds, and every member bp sends has a declared type", async () => {
    const schema = await vmSchema();
    for (const body of [
      await wireBody(),
      await wireBody({ managed_identity: undefined }),
      await wireBody({ vm_size: 'Standard_D4s_v5' }, true),
    ]) {
      expect(() => checkBody(structuredClone(body) as Record<string, unknown>, schema)).not.toThrow();
      const untyped = leaves(body, schema).filter(([, kind]) => kind === 'Primitive');
      expect(untyped).toEqual([]);
    }
    const kinds = Object.fromEntries(leaves(await wireBody(), schema));
    expect(kinds).toMatchObject({
      location: 'String',
      'properties.hardwareProfile.vmSize': 'String',
      'properties.storageProfile.osDisk.createOption': 'String',
      'properties.osProfile.linuxConfiguration.disablePasswordAuthentication': 'Boolean',
      'properties.networkProfile.networkInterfaces.0.properties.primary': 'Boolean',
      'identity.type': 'Enum',
    });
  });

  it('types every writable member of the VM: none is left an untyped primitive', async () => {
    // Members and types come from one SDK build, so every member its serializer writes is declared,
    // the newest ones included (storageFaultDomainAlignment, interconnectGroupProfile ...).
    const leaf = writableLeaves(await vmSchema());
    const kinds = [...leaf.values()].map((f) => f.type.kind);
    expect(kinds.filter((k) => k === 'Primitive')).toEqual([]);
    expect(leaf.size).toBeGreaterThan(150);
    expect(kinds.filter((k) => k === 'String').length).toBeGreaterThan(80);
    expect(kinds.filter((k) => k === 'Boolean').length).toBeGreaterThan(30);
    expect(kinds.filter((k) => k === 'Number').length).toBeGreaterThan(10);
    expect(leaf.get('properties.storageProfile.osDisk.diskSizeGB')?.type).toEqual({ kind: 'Number' });
    expect(leaf.get('properties.billingProfile.maxPrice')?.type).toEqual({ kind: 'Number' });
    // Wire name diskIOPSReadWrite, client name diskIopsReadWrite: matched through the serializer.
    expect(leaf.get('properties.storageProfile.dataDisks[].diskIOPSReadWrite')?.type).toEqual({ kind: 'Number' });
    expect(leaf.get('tags{}')?.type).toEqual({ kind: 'String' });
    expect(leaf.get('zones[]')?.type).toEqual({ kind: 'String' });
    expect(leaf.get('properties.storageProfile.osDisk.storageFaultDomainAlignment')?.type).toEqual({ kind: 'String' });
    expect(leaf.get('properties.networkProfile.interconnectGroupProfile.interconnectGroup.id')?.type).toEqual({
      kind: 'String',
    });
  });

  it('knows closed enums (literal unions) from extensible ones (`= string` with a Known* enum)', async () => {
    const leaf = writableLeaves(await vmSchema());
    const closed = [...leaf].filter(([, f]) => f.type.kind === 'Enum').map(([p, f]) => [p, f.type]);
    expect(Object.fromEntries(closed)).toEqual({
      'identity.type': {
        kind: 'Enum',
        name: 'ResourceIdentityType',
        allowed: ['SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned', 'None'],
      },
      'properties.storageProfile.osDisk.osType': {
        kind: 'Enum',
        name: 'OperatingSystemTypes',
        allowed: ['Windows', 'Linux'],
      },
      'properties.storageProfile.osDisk.caching': {
        kind: 'Enum',
        name: 'CachingTypes',
        allowed: ['None', 'ReadOnly', 'ReadWrite'],
      },
      'properties.storageProfile.dataDisks[].caching': {
        kind: 'Enum',
        name: 'CachingTypes',
        allowed: ['None', 'ReadOnly', 'ReadWrite'],
      },
      'properties.osProfile.windowsConfiguration.additionalUnattendContent[].passName': {
        kind: 'Enum',
        name: 'PassNames',
        allowed: ['OobeSystem'],
      },
      'properties.osProfile.windowsConfiguration.additionalUnattendContent[].componentName': {
        kind: 'Enum',
        name: 'ComponentNames',
        allowed: ['Microsoft-Windows-Shell-Setup'],
      },
      'properties.osProfile.windowsConfiguration.additionalUnattendContent[].settingName': {
        kind: 'Enum',
        name: 'SettingNames',
        allowed: ['AutoLogon', 'FirstLogonCommands'],
      },
      'properties.osProfile.windowsConfiguration.winRM.listeners[].protocol': {
        kind: 'Enum',
        name: 'ProtocolTypes',
        allowed: ['Http', 'Https'],
      },
    });
    // Extensible: a string on the wire, whatever the service's known values.
    expect(leaf.get('properties.priority')?.type).toEqual({ kind: 'String' });
    expect(leaf.get('properties.storageProfile.osDisk.managedDisk.storageAccountType')?.type).toEqual({
      kind: 'String',
    });
    const model = computeDtsModel();
    expect(model.aliases.get('VirtualMachinePriorityTypes')).toEqual({ kind: 'string' });
    expect(model.known.get('VirtualMachinePriorityTypes')).toEqual(['Regular', 'Low', 'Spot']);
  });

  it('requires the members declared without `?`, below the resource itself', async () => {
    const leaf = writableLeaves(await vmSchema());
    const required = [...leaf].filter(([, f]) => f.required).map(([p]) => p);
    expect(required.sort()).toEqual([
      'properties.applicationProfile.galleryApplications[].packageReferenceId',
      'properties.networkProfile.networkInterfaceConfigurations[].name',
      'properties.networkProfile.networkInterfaceConfigurations[].properties.ipConfigurations[].name',
      'properties.networkProfile.networkInterfaceConfigurations[].properties.ipConfigurations[].properties.publicIPAddressConfiguration.name',
      'properties.networkProfile.networkInterfaceConfigurations[].properties.ipConfigurations[].properties.publicIPAddressConfiguration.properties.dnsSettings.domainNameLabel',
      'properties.storageProfile.dataDisks[].createOption',
      'properties.storageProfile.dataDisks[].lun',
      'properties.storageProfile.osDisk.createOption',
      'properties.storageProfile.osDisk.encryptionSettings.diskEncryptionKey.secretUrl',
      'properties.storageProfile.osDisk.encryptionSettings.keyEncryptionKey.keyUrl',
    ]);
    // `location: string` on TrackedResource stays Resource Manager's own LocationRequired.
    expect(leaf.get('location')?.required).toBeUndefined();
  });

  it('parses declarations: members, `?`, readonly, extends, literal unions, string aliases, arrays, records', () => {
    const model = parseDeclarations('0.0.0', [
      {
        file: 'base.d.ts',
        text: `export interface Base { readonly id?: string; tags?: Record<string, string>; }`,
      },
      {
        file: 'models.d.ts',
        text: `
          import type { Base } from "./base.js";
          /** A disk. */
          export interface Disk extends Base {
            /** Required. */
            lun: number;
            caching?: CachingTypes;
            priority?: Priority;
            "odd-name"?: boolean;
            when?: Date;
            zones?: string[];
            data?: Uint8Array;
            settings?: any;
            mode?: "On" | "Off";
          }
          export declare function diskSerializer(item: Disk): any;
          export type CachingTypes = "None" | "ReadOnly";
          export declare enum KnownPriority { Regular = "Regular", Spot = "Spot" }
          export type Priority = string;
        `,
      },
    ]);
    expect(model.interfaces.get('Disk')?.extends).toEqual(['Base']);
    expect(Object.fromEntries(model.interfaces.get('Disk')!.members)).toEqual({
      lun: { type: { kind: 'number' }, required: true, readonly: false },
      caching: { type: { kind: 'ref', name: 'CachingTypes' }, required: false, readonly: false },
      priority: { type: { kind: 'ref', name: 'Priority' }, required: false, readonly: false },
      'odd-name': { type: { kind: 'boolean' }, required: false, readonly: false },
      when: { type: { kind: 'Date' }, required: false, readonly: false },
      zones: { type: { kind: 'array', element: { kind: 'string' } }, required: false, readonly: false },
      data: { type: { kind: 'bytes' }, required: false, readonly: false },
      settings: { type: { kind: 'any' }, required: false, readonly: false },
      mode: { type: { kind: 'literals', values: ['On', 'Off'] }, required: false, readonly: false },
    });
    expect(Object.fromEntries(model.interfaces.get('Base')!.members)).toEqual({
      id: { type: { kind: 'string' }, required: false, readonly: true },
      tags: { type: { kind: 'record', value: { kind: 'string' } }, required: false, readonly: false },
    });
    expect(model.aliases.get('CachingTypes')).toEqual({ kind: 'literals', values: ['None', 'ReadOnly'] });
    expect(model.aliases.get('Priority')).toEqual({ kind: 'string' });
    expect(model.known.get('Priority')).toEqual(['Regular', 'Spot']);
  });
});
