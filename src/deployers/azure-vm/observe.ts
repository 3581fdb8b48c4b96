/**
 * What Azure really runs for one environment, found by the tags bp writes, never by what the
 * deployer remembers: a revision with any VM, NIC, load balancer or public IP left is present;
 * it is healthy when it has its replicas, each VM running and Up in its load balancer's health
 * probe. Splits are read from the Traffic Manager profiles.
 */
import type { DeployerEnvironment, Observation, ObservedRevision } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { arm } from './errors.js';
import { mapBounded, OBSERVE_CONCURRENCY } from '../kit/bounded.js';
import { isMine, REVISION_TAG, revisionNames, TAGS } from './names.js';
import { powerOf, type RevisionResources } from './revision.js';
import type { AzureClients } from './sdk.js';
import { fromTrafficManager } from './weights.js';

interface Found {
  /** VM names and ids (lower case), from the resource group's VM list. */
  vms: Array<{ name: string; id: string }>;
  loadBalancer?: string;
}

type Tagged = { id?: string; name?: string; tags?: Record<string, string> };

async function collect<T extends Tagged>(
  what: string,
  signal: AbortSignal,
  iterable: () => AsyncIterable<T>,
  environmentId: string,
): Promise<T[]> {
  return arm(`list ${what}`, signal, async () => {
    const out: T[] = [];
    for await (const r of iterable()) if (isMine(r.tags, environmentId)) out.push(r);
    return out;
  });
}

export async function observeEnvironment(
  c: AzureClients,
  resources: RevisionResources,
  rg: string,
  env: DeployerEnvironment,
  signal: AbortSignal,
): Promise<Observation> {
  const id = env.environment_id;
  const opts = { abortSignal: signal };
  const [vms, nics, lbs, ips, profiles, power] = await Promise.all([
    collect('VMs', signal, () => c.compute.virtualMachines.list(rg, opts), id),
    collect('NICs', signal, () => c.network.networkInterfaces.list(rg, opts), id),
    collect('load balancers', signal, () => c.network.loadBalancers.list(rg, opts), id),
    collect('public IPs', signal, () => c.network.publicIPAddresses.list(rg, opts), id),
    collect('Traffic Manager profiles', signal, () => c.trafficManager.profiles.listByResourceGroup(rg, opts), id),
    powerStates(c, signal),
  ]);
  const found = new Map<string, Found>();
  const entry = (r: Tagged) => {
    const rev = r.tags?.[TAGS.revision] ?? '';
    let f = found.get(rev);
    if (!f) found.set(rev, (f = { vms: [] }));
    return f;
  };
  for (const vm of vms) entry(vm).vms.push({ name: String(vm.name), id: String(vm.id).toLowerCase() });
  for (const lb of lbs) entry(lb).loadBalancer = lb.name;
  for (const r of [...nics, ...ips]) entry(r);

  const observation: Observation = { revisions: {}, splits: {} };
  for (const d of env.deployments)
    for (const r of d.revisions) observation.revisions[r.revision_id] = { present: false, healthy: false };
  const wanted = new Map(
    env.deployments.flatMap((d) => d.revisions.map((r) => [r.revision_id, Math.max(1, r.resources.replicas)] as const)),
  );
  // Load balancer rule health has no list form (nor power states, when listAll is refused): per revision, bounded.
  await mapBounded([...found], OBSERVE_CONCURRENCY, async ([rev, f]) => {
    const states = power ?? (await powerOfEach(c, rg, f.vms, signal));
    observation.revisions[rev] = await revisionStatus(resources, f, states, wanted.get(rev) ?? f.vms.length, signal);
  });

  const scope = resources.scope;
  const revisionOfEndpoint = new Map(
    env.deployments.flatMap((d) =>
      d.revisions.map((r) => [revisionNames(scope, id, r.revision_id).base, r.revision_id] as const),
    ),
  );
  for (const ip of ips)
    if (ip.name && ip.tags?.[TAGS.revision])
      revisionOfEndpoint.set(ip.name.replace(/-pip$/, ''), ip.tags[TAGS.revision]);
  for (const p of profiles) {
    const deploymentId = p.tags?.[TAGS.deployment];
    if (deploymentId) observation.splits[deploymentId] = splitOf(p, revisionOfEndpoint);
  }
  return observation;
}

/**
 * Every VM's power state (by lower-cased id) from one paginated list: ARM's listAll with
 * `statusOnly=true` answers run-time status for all VMs of the subscription, where `$expand=
 * instanceView` on the resource group's list is refused without a scale-set filter. A role
 * granted on the resource group alone may not list the subscription (403): then null, and each
 * revision's VMs are read one instance view at a time instead.
 */
async function powerStates(c: AzureClients, signal: AbortSignal): Promise<Map<string, string> | null> {
  const out = new Map<string, string>();
  try {
    for await (const vm of c.compute.virtualMachines.listAll({ statusOnly: 'true', abortSignal: signal }))
      if (vm.id) out.set(vm.id.toLowerCase(), powerOf(vm.instanceView));
    return out;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 403) return null;
    return arm('list VM power states', signal, () => Promise.reject(e));
  }
}

/** Power states of one revision's VMs, one instance view each (the fallback when listAll is refused). */
async function powerOfEach(
  c: AzureClients,
  rg: string,
  vms: Found['vms'],
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const views = await Promise.all(
    vms.map((vm) =>
      arm(`read VM ${vm.name} instance view`, signal, () =>
        c.compute.virtualMachines.instanceView(rg, vm.name, { abortSignal: signal }),
      ).catch(() => undefined),
    ),
  );
  return new Map(vms.map((vm, i) => [vm.id, powerOf(views[i])]));
}

async function revisionStatus(
  resources: RevisionResources,
  f: Found,
  power: ReadonlyMap<string, string>,
  replicas: number,
  signal: AbortSignal,
): Promise<ObservedRevision> {
  if (!f.loadBalancer || f.vms.length < Math.max(1, replicas)) return { present: true, healthy: false };
  const up = await resources.probeUp(f.loadBalancer, signal);
  const running = f.vms.filter((vm) => power.get(vm.id) === 'running').length;
  const probed = f.vms.filter((vm) =>
    [...up].some((ip) => ip.includes(`/networkinterfaces/${vm.name.replace(/-vm-(\d+)$/, '-nic-$1')}/`)),
  ).length;
  return { present: true, healthy: running === f.vms.length && probed === f.vms.length };
}

type ProfileLike = Tagged & { endpoints?: Array<{ name?: string; weight?: number; endpointStatus?: string }> };

/**
 * The split the profile enforces, in basis points: its per-mille weights as Traffic Manager
 * sends traffic (so 9995/5 asked shows as 9990/10, as applied). Endpoint names map to
 * revision ids through `revisionOfEndpoint`; tags older versions wrote are a fallback.
 */
export function splitOf(p: ProfileLike, revisionOfEndpoint: ReadonlyMap<string, string> = new Map()): SplitEntry[] {
  const endpoints = p.endpoints ?? [];
  const tags = p.tags ?? {};
  const ids = endpoints.map(
    (e) => revisionOfEndpoint.get(String(e.name)) ?? tags[`${REVISION_TAG}${e.name}`] ?? String(e.name),
  );
  const wire = endpoints.map((e) => ({ weight: Number(e.weight ?? 1), enabled: e.endpointStatus !== 'Disabled' }));
  const bps = fromTrafficManager(wire);
  return ids.map((revision_id, i) => ({ revision_id, weight_bps: bps[i] }));
}
