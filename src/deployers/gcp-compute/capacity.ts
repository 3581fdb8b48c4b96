/**
 * What Compute Engine would refuse about a revision's VMs, found before anything billable is
 * created: a machine type the zone does not offer (checked at stage), and VMs the project's
 * quotas have no room for (checked before a group is created or grown). A managed instance
 * group accepts a size it cannot reach and keeps retrying, so without these checks a warm
 * would wait out its whole health timeout with VMs missing (docs/deployers/gcp-compute.md, Limits).
 */
import { ProviderError } from '../../model/errors.js';
import type { GceApi, Json, QuotaEntry } from './api.js';

/** The zone's `machineTypes/NAME`; refuses (not retryable) a type the zone does not offer. */
export async function offeredMachineType(
  api: GceApi,
  revisionId: string,
  machineType: string,
  signal: AbortSignal,
): Promise<Json> {
  const found = await api.get('machineTypes', machineType, signal);
  if (found) return found;
  // Only on this failure path: which zones of the region do offer it (one get per zone).
  const others = (await api.regionZones(signal)).filter((z) => z !== api.zone);
  const offering = (
    await Promise.all(
      others.map(async (z) => ((await api.getInZone('machineTypes', z, machineType, signal)) ? z : null)),
    )
  ).filter((z): z is string => z !== null);
  const where = offering.length
    ? `zones of ${api.zone.replace(/-[a-z]$/, '')} that offer it: ${offering.join(', ')}`
    : `no zone of ${api.zone.replace(/-[a-z]$/, '')} offers it`;
  throw new ProviderError(
    `revision "${revisionId}": machine type ${machineType} is not offered in zone ${api.zone} (${where}); ` +
      'set another zone or machine_type',
  );
}

/**
 * The quota metrics one VM of this type uses. E2 and N1 count against CPUS, other families
 * against FAMILY_CPUS; GPUs against NVIDIA_<MODEL>_GPUS and GPUS_ALL_REGIONS
 * (https://cloud.google.com/compute/resource-usage).
 */
export function vmQuotaUse(
  machine: Json,
  externalIp: boolean,
): { regional: Record<string, number>; global: Record<string, number> } {
  const family = String(machine.name).split('-')[0];
  const cpus = Number(machine.guestCpus ?? 1);
  const regional: Record<string, number> = {
    [['e2', 'n1', 'f1', 'g1'].includes(family) ? 'CPUS' : `${family.toUpperCase()}_CPUS`]: cpus,
    INSTANCES: 1,
  };
  if (externalIp) regional.IN_USE_ADDRESSES = 1;
  let gpus = 0;
  for (const a of (machine.accelerators as Array<{ guestAcceleratorType?: string; guestAcceleratorCount?: number }>) ??
    []) {
    const metric = `${String(a.guestAcceleratorType).toUpperCase().replace(/-/g, '_')}_GPUS`;
    regional[metric] = (regional[metric] ?? 0) + Number(a.guestAcceleratorCount ?? 0);
    gpus += Number(a.guestAcceleratorCount ?? 0);
  }
  return { regional, global: { CPUS_ALL_REGIONS: cpus, ...(gpus ? { GPUS_ALL_REGIONS: gpus } : {}) } };
}

/** Refuses (not retryable, nothing created) `vms` more VMs of `machine` that a quota has no room for. */
export async function checkQuotas(
  api: GceApi,
  revisionId: string,
  machine: Json,
  vms: number,
  externalIp: boolean,
  signal: AbortSignal,
): Promise<void> {
  if (vms <= 0) return;
  const use = vmQuotaUse(machine, externalIp);
  const [regional, global] = await Promise.all([api.quotas('region', signal), api.quotas('project', signal)]);
  const region = api.zone.replace(/-[a-z]$/, '');
  const short = (quotas: QuotaEntry[], need: Record<string, number>, where: string) => {
    for (const [metric, perVm] of Object.entries(need)) {
      const q = quotas.find((x) => x.metric === metric);
      // A metric the project does not report is not limited there.
      if (q && q.usage + perVm * vms > q.limit) {
        return (
          `revision "${revisionId}" needs ${perVm * vms} more of quota ${metric} ${where} for ${vms} ${String(machine.name)} VMs, ` +
          `but ${q.usage} of ${q.limit} are in use; request a quota increase or lower resources.replicas`
        );
      }
    }
    return null;
  };
  const problem = short(regional, use.regional, `in region ${region}`) ?? short(global, use.global, 'globally');
  if (problem) throw new ProviderError(problem);
}
