/**
 * The resource types the fake serves and the rules of each (BEHAVIOUR.md cites the REST
 * reference for every rule): what a PUT body must hold, which references must exist, what
 * ARM fills in, what a GET shows, and what blocks a DELETE.
 */
import type { Guests } from './guests.js';
import { ArmError, type ArmResource, type Json, parentId, type Store } from './store.js';

export interface TypeContext {
  store: Store;
  guests: Guests;
  /** `/subscriptions/S/resourceGroups/RG` of the request. */
  groupId: string;
  /** Regional vCPU quota and the vCPUs of each VM size (OperationNotAllowed beyond it). */
  coresLimit: number;
  vmCores: (size: string) => number;
  /** Throws 400 for a size that does not exist, 409 SkuNotAvailable for one not offered there. */
  checkSize: (size: string, location: string, zones: string[] | undefined) => void;
}

export interface ResourceType {
  type: string;
  /** PUT/DELETE answer 201/202 with Azure-AsyncOperation (else 200/201 at once, as Traffic Manager does). */
  longRunning: boolean;
  /** The list answers in one page, without `nextLink`, when the API's list result has none (Traffic Manager). */
  unpaged?: boolean;
  /** The stored resource for a PUT body; throws ArmError for a bad request. */
  build(id: string, name: string, body: Json, existing: ArmResource | undefined, ctx: TypeContext): ArmResource;
  /** Runs when the PUT's operation succeeds. */
  created?(r: ArmResource, ctx: TypeContext, body: Json): void;
  /** Throws when something still uses the resource. */
  checkDelete?(r: ArmResource, ctx: TypeContext): void;
  deleted?(r: ArmResource, ctx: TypeContext): void;
  /** The GET shape (default: as stored). */
  view?(r: ArmResource, ctx: TypeContext, query: URLSearchParams): Json;
}

const bad = (message: string, code = 'InvalidParameter') => new ArmError(400, code, message);
const invalidReference = (id: string) =>
  new ArmError(
    400,
    'InvalidResourceReference',
    `Resource ${id} referenced by resource was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
  );

function props(body: Json): Json {
  const p = body.properties;
  if (p !== undefined && (typeof p !== 'object' || p === null))
    throw bad('properties must be an object', 'InvalidRequestFormat');
  return structuredClone((p as Json | undefined) ?? {});
}

function base(id: string, name: string, type: string, body: Json, existing: ArmResource | undefined): ArmResource {
  const location = typeof body.location === 'string' ? body.location : existing?.location;
  if (!location) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  return { id, name, type, location, tags: (body.tags as Record<string, string> | undefined) ?? {}, properties: {} };
}

const childIds = (parent: string, kind: string, items: unknown) =>
  ((items as Array<{ name: string; properties?: Json }> | undefined) ?? []).map((c) => ({
    ...c,
    id: `${parent}/${kind}/${c.name}`,
    properties: c.properties ?? {},
  }));

let nextPrivate = 4;
let nextPublic = 10;

const publicIp: ResourceType = {
  type: 'Microsoft.Network/publicIPAddresses',
  longRunning: true,
  build(id, name, body, existing, ctx) {
    const r = base(id, name, this.type, body, existing);
    const p = props(body);
    const sku = (body.sku as { name?: string } | undefined)?.name ?? 'Basic';
    if (sku === 'Standard' && p.publicIPAllocationMethod !== 'Static') {
      throw bad(
        'Standard sku publicIp /subscriptions/…/publicIPAddresses/' +
          name +
          ' must have AllocationMethod set to Static.',
        'StandardSkuPublicIPAddressesMustBeStatic',
      );
    }
    const label = (p.dnsSettings as { domainNameLabel?: string } | undefined)?.domainNameLabel;
    if (label) {
      const fqdn = `${label}.${r.location}.cloudapp.azure.com`;
      const taken = ctx.store
        .list(this.type)
        .find(
          (o) =>
            o.id.toLowerCase() !== id.toLowerCase() &&
            (o.properties.dnsSettings as { fqdn?: string } | undefined)?.fqdn === fqdn,
        );
      if (taken) throw bad(`DNS record ${fqdn} is already used by another public IP.`, 'DnsRecordInUse');
      p.dnsSettings = { domainNameLabel: label, fqdn };
    }
    p.ipAddress = existing?.properties.ipAddress ?? `198.51.100.${nextPublic++ % 250}`;
    p.ipConfiguration = existing?.properties.ipConfiguration;
    return { ...r, sku: { name: sku, tier: 'Regional' }, properties: p };
  },
  checkDelete(r) {
    const user = (r.properties.ipConfiguration as { id?: string } | undefined)?.id;
    if (user) {
      throw bad(
        `Public IP address ${r.id} can not be deleted since it is still allocated to resource ${user}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.`,
        'PublicIPAddressCannotBeDeleted',
      );
    }
  },
};

const loadBalancer: ResourceType = {
  type: 'Microsoft.Network/loadBalancers',
  longRunning: true,
  build(id, name, body, existing, ctx) {
    const r = base(id, name, this.type, body, existing);
    const p = props(body);
    p.frontendIPConfigurations = childIds(id, 'frontendIPConfigurations', p.frontendIPConfigurations);
    for (const fe of p.frontendIPConfigurations as Array<{ properties: Json }>) {
      const ipId = (fe.properties.publicIPAddress as { id?: string } | undefined)?.id;
      if (ipId && !ctx.store.get(ipId)) throw invalidReference(ipId);
    }
    p.backendAddressPools = childIds(id, 'backendAddressPools', p.backendAddressPools);
    p.probes = childIds(id, 'probes', p.probes);
    for (const probe of p.probes as Array<{ properties: Json }>) {
      if (probe.properties.protocol === 'Http' && typeof probe.properties.requestPath !== 'string')
        throw bad('An HTTP probe needs a requestPath.');
    }
    p.loadBalancingRules = childIds(id, 'loadBalancingRules', p.loadBalancingRules);
    p.outboundRules = childIds(id, 'outboundRules', p.outboundRules);
    for (const rule of [
      ...(p.loadBalancingRules as Array<{ properties: Json }>),
      ...(p.outboundRules as Array<{ properties: Json }>),
    ]) {
      const refs = [
        rule.properties.backendAddressPool,
        rule.properties.probe,
        rule.properties.frontendIPConfiguration,
        ...((rule.properties.frontendIPConfigurations as unknown[] | undefined) ?? []),
      ] as Array<{ id?: string } | undefined>;
      for (const ref of refs) {
        if (ref?.id && !JSON.stringify(p).toLowerCase().includes(`"id":"${ref.id.toLowerCase()}"`))
          throw invalidReference(ref.id);
      }
    }
    return { ...r, sku: body.sku ?? { name: 'Basic' }, properties: p };
  },
  created(r, ctx) {
    for (const fe of r.properties.frontendIPConfigurations as Array<{ id: string; properties: Json }>) {
      const ip = ctx.store.get(String((fe.properties.publicIPAddress as { id?: string } | undefined)?.id ?? ''));
      if (ip) ip.properties.ipConfiguration = { id: fe.id };
    }
  },
  deleted(r, ctx) {
    for (const ip of ctx.store.list('Microsoft.Network/publicIPAddresses')) {
      const user = (ip.properties.ipConfiguration as { id?: string } | undefined)?.id;
      if (user && parentId(user).toLowerCase() === r.id.toLowerCase()) ip.properties.ipConfiguration = undefined;
    }
  },
  view(r, ctx) {
    const view = structuredClone(r);
    for (const pool of view.properties.backendAddressPools as Array<{ properties: Json; id: string }>) {
      pool.properties.backendIPConfigurations = ctx.guests
        .backendsOf(r)
        .filter(({ ipConfig }) =>
          ((ipConfig.properties.loadBalancerBackendAddressPools as Array<{ id: string }>) ?? []).some(
            (x) => x.id.toLowerCase() === pool.id.toLowerCase(),
          ),
        )
        .map(({ ipConfig }) => ({ id: ipConfig.id }));
    }
    return view;
  },
};

const networkInterface: ResourceType = {
  type: 'Microsoft.Network/networkInterfaces',
  longRunning: true,
  build(id, name, body, existing, ctx) {
    const r = base(id, name, this.type, body, existing);
    const p = props(body);
    const configs = childIds(id, 'ipConfigurations', p.ipConfigurations);
    if (configs.length === 0)
      throw bad(
        'A network interface needs at least one IP configuration.',
        'NetworkInterfaceMustHaveAtLeastOneIpConfiguration',
      );
    const before = (existing?.properties.ipConfigurations as Array<{ properties: Json }> | undefined) ?? [];
    configs.forEach((c, i) => {
      const subnet = (c.properties.subnet as { id?: string } | undefined)?.id;
      if (!subnet || !ctx.store.get(subnet)) throw invalidReference(subnet ?? '(no subnet)');
      for (const pool of (c.properties.loadBalancerBackendAddressPools as Array<{ id: string }> | undefined) ?? []) {
        const lb = ctx.store.get(parentId(pool.id));
        const pools = (lb?.properties.backendAddressPools as Array<{ id: string }> | undefined) ?? [];
        if (!pools.some((x) => x.id.toLowerCase() === pool.id.toLowerCase())) throw invalidReference(pool.id);
      }
      c.properties.privateIPAddress =
        before[i]?.properties.privateIPAddress ?? `10.0.${Math.floor(nextPrivate / 250)}.${(nextPrivate++ % 250) + 4}`;
      c.properties.primary = i === 0;
    });
    p.ipConfigurations = configs;
    p.virtualMachine = existing?.properties.virtualMachine;
    return { ...r, properties: p };
  },
  checkDelete(r) {
    const vm = (r.properties.virtualMachine as { id?: string } | undefined)?.id;
    if (vm)
      throw bad(`Nic(s) in request is in use by VM ${vm}. Detach the NIC(s) from the VM before deleting.`, 'NicInUse');
  },
};

function nicIdsOf(p: Json): Array<{ id: string; properties?: { deleteOption?: string } }> {
  return (
    (
      p.networkProfile as
        { networkInterfaces?: Array<{ id: string; properties?: { deleteOption?: string } }> } | undefined
    )?.networkInterfaces ?? []
  );
}

/**
 * A VM's `identity` (Compute REST reference, VirtualMachineIdentity): type SystemAssigned,
 * UserAssigned, both or None; user-assigned identities keyed by their resource ids.
 */
function vmIdentity(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  const v = value as { type?: string; userAssignedIdentities?: Record<string, unknown> };
  const types = ['SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned', 'None'];
  if (!v.type || !types.includes(v.type))
    throw bad(`The value '${String(v.type)}' of parameter 'identity.type' is not allowed.`, 'InvalidParameter');
  const ids = Object.keys(v.userAssignedIdentities ?? {});
  if (v.type.includes('UserAssigned') && ids.length === 0)
    throw bad("The 'userAssignedIdentities' property is required when the identity type is UserAssigned.");
  for (const id of ids) {
    if (
      !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i.test(
        id,
      )
    )
      throw bad(`Resource identifier '${id}' is not a valid user assigned identity.`, 'InvalidIdentityValues');
  }
  return v.type === 'None' ? undefined : (structuredClone(v) as Json);
}

const virtualMachine: ResourceType = {
  type: 'Microsoft.Compute/virtualMachines',
  longRunning: true,
  build(id, name, body, existing, ctx) {
    const r = base(id, name, this.type, body, existing);
    const p = props(body);
    const size = (p.hardwareProfile as { vmSize?: string } | undefined)?.vmSize;
    if (!size || !/^Standard_[A-Za-z0-9_]+$/.test(size))
      throw bad(`The value ${size} provided for the VM size is not valid.`);
    const sizeBefore = (existing?.properties.hardwareProfile as { vmSize?: string } | undefined)?.vmSize;
    // A new VM, or a resize, needs the size offered where it is placed (an unchanged model allocates nothing).
    if (sizeBefore !== size) ctx.checkSize(size, r.location!, body.zones as string[] | undefined);
    const os = (p.osProfile ?? {}) as {
      adminUsername?: string;
      adminPassword?: string;
      customData?: string;
      linuxConfiguration?: { disablePasswordAuthentication?: boolean; ssh?: { publicKeys?: unknown[] } };
    };
    if (!existing) {
      if (!os.adminUsername) throw bad("Required parameter 'osProfile.adminUsername' is missing (null).");
      if (!os.adminPassword && !os.linuxConfiguration?.ssh?.publicKeys?.length) {
        throw bad("Required parameter 'adminPassword' is missing (null).");
      }
      const cores = ctx.vmCores(size);
      const used = ctx.store
        .list(this.type)
        .reduce((n, vm) => n + ctx.vmCores(String((vm.properties.hardwareProfile as { vmSize?: string }).vmSize)), 0);
      if (used + cores > ctx.coresLimit) {
        throw new ArmError(
          409,
          'OperationNotAllowed',
          `Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, Location: ${r.location}, Current Limit: ${ctx.coresLimit}, Current Usage: ${used}, Additional Required: ${cores}, (Minimum) New Limit Required: ${used + cores}. Submit a request for Quota increase at https://aka.ms/ProdportalCRP`,
        );
      }
    }
    if (os.customData !== undefined) {
      // Compute REST reference, OSProfile.customData: base64, the decoded array at most 65,535 bytes.
      const refused = () =>
        bad('Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(os.customData) || os.customData.length % 4 !== 0) throw refused();
      if (os.customData.length > 87380 || Buffer.from(os.customData, 'base64').length > 65535) throw refused();
    }
    if (existing) {
      // osProfile is fixed at creation: a PUT that changes it is refused, whatever state the VM is in.
      const before = (existing.properties.osProfile ?? {}) as Record<string, unknown>;
      for (const key of [
        'adminUsername',
        'computerName',
        'customData',
        'linuxConfiguration',
        'adminPassword',
      ] as const) {
        const was = JSON.stringify(before[key] ?? null);
        const now = JSON.stringify((os as Record<string, unknown>)[key] ?? null);
        if (key in os && was !== now) {
          throw new ArmError(
            409,
            'PropertyChangeNotAllowed',
            `Changing property '${key === 'linuxConfiguration' ? 'linuxConfiguration.ssh.publicKeys' : key}' is not allowed.`,
          );
        }
      }
    }
    for (const nic of nicIdsOf(p)) {
      const n = ctx.store.get(nic.id);
      if (!n) throw new ArmError(404, 'NotFound', `Resource ${nic.id} not found.`);
      const owner = (n.properties.virtualMachine as { id?: string } | undefined)?.id;
      if (owner && owner.toLowerCase() !== id.toLowerCase())
        throw bad(`Network interface ${nic.id} is used by existing VM ${owner}.`, 'NicInUseWithVirtualMachine');
    }
    const identity = vmIdentity(body.identity);
    if (identity) r.identity = identity;
    p.vmId = existing?.properties.vmId ?? crypto.randomUUID();
    p.timeCreated = existing?.properties.timeCreated ?? new Date().toISOString();
    return { ...r, properties: p };
  },
  created(r, ctx, body) {
    const os = ((body.properties as Json | undefined)?.osProfile ?? {}) as { customData?: string };
    for (const nic of nicIdsOf(r.properties)) {
      const n = ctx.store.get(nic.id);
      if (n) n.properties.virtualMachine = { id: r.id };
    }
    // A PUT of an existing VM updates its model; it does not restart it.
    if (!ctx.guests.power(r.id)) ctx.guests.boot(r.id, os.customData, r.identity !== undefined);
  },
  deleted(r, ctx) {
    ctx.guests.forget(r.id);
    for (const nic of nicIdsOf(r.properties)) {
      const n = ctx.store.get(nic.id);
      if (!n) continue;
      n.properties.virtualMachine = undefined;
      if (nic.properties?.deleteOption === 'Delete') ctx.store.remove(n.id);
    }
  },
  view(r, ctx, query) {
    const view = structuredClone(r);
    // customData is write-only: ARM never returns it.
    const os = view.properties.osProfile as { customData?: string } | undefined;
    if (os) delete os.customData;
    if (query.get('$expand') === 'instanceView') view.properties.instanceView = ctx.guests.instanceView(r);
    return view;
  },
};

export const TYPES: ResourceType[] = [publicIp, loadBalancer, networkInterface, virtualMachine];
