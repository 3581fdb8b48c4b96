/**
 * Resource quotas as a fresh project has them: usage counted from what the fake holds, limits
 * per region and global, overridable by a test (`FakeGce.quotas`). A request that would go
 * over a limit is refused with Compute Engine's QUOTA_EXCEEDED error (HTTP 403), inside the
 * operation for an insert; a managed instance group that cannot create a VM records the error
 * and keeps retrying. Refs: https://cloud.google.com/compute/resource-usage,
 * https://cloud.google.com/compute/docs/reference/rest/v1/regions (Region.quotas). BEHAVIOUR.md, "Quotas".
 */
import { ApiError, type Resource, type Store } from './store.js';
import { machineShape, machineTypeName, regionOf } from './zones.js';

/**
 * Defaults close to what `regions.get` / `projects.get` report for a new project with billing
 * enabled (they vary by project and account age; tests that need other values set them).
 */
export const DEFAULT_REGIONAL_QUOTAS: Record<string, number> = {
  CPUS: 24,
  INSTANCES: 240,
  IN_USE_ADDRESSES: 8,
  INSTANCE_GROUP_MANAGERS: 50,
  INSTANCE_GROUPS: 100,
  NVIDIA_L4_GPUS: 1,
};
export const DEFAULT_GLOBAL_QUOTAS: Record<string, number> = {
  CPUS_ALL_REGIONS: 32,
  GPUS_ALL_REGIONS: 0,
  INSTANCE_TEMPLATES: 100,
  HEALTH_CHECKS: 50,
  BACKEND_SERVICES: 50,
  URL_MAPS: 10,
  TARGET_HTTP_PROXIES: 10,
  FORWARDING_RULES: 15,
};

/** Global collections and the quota each counts against (one per resource). */
const GLOBAL_COUNTED: Record<string, string> = {
  instanceTemplates: 'INSTANCE_TEMPLATES',
  healthChecks: 'HEALTH_CHECKS',
  backendServices: 'BACKEND_SERVICES',
  urlMaps: 'URL_MAPS',
  targetHttpProxies: 'TARGET_HTTP_PROXIES',
  forwardingRules: 'FORWARDING_RULES',
};

export interface QuotaEntry {
  metric: string;
  limit: number;
  usage: number;
}

/** What one VM of a template uses, by metric. */
function vmUsage(props: Record<string, unknown>): Record<string, number> {
  const type = machineTypeName(props.machineType);
  const shape = machineShape(type);
  const cpus = shape?.guestCpus ?? 1;
  // E2 and N1 count against CPUS, other families against their own FAMILY_CPUS (unlimited here unless set).
  const family = type.split('-')[0];
  const cpuMetric = ['e2', 'n1'].includes(family) ? 'CPUS' : `${family.toUpperCase()}_CPUS`;
  const gpus = shape?.gpus ?? 0;
  const nics = (props.networkInterfaces as Array<{ accessConfigs?: unknown[] }> | undefined) ?? [];
  const external = nics.some((n) => (n.accessConfigs ?? []).length > 0) ? 1 : 0;
  return {
    [cpuMetric]: cpus,
    INSTANCES: 1,
    IN_USE_ADDRESSES: external,
    NVIDIA_L4_GPUS: gpus,
    CPUS_ALL_REGIONS: cpus,
    GPUS_ALL_REGIONS: gpus,
  };
}

export class Quotas {
  /** Overrides by metric; a regional metric applies to every region. */
  readonly limits: Record<string, number> = { ...DEFAULT_REGIONAL_QUOTAS, ...DEFAULT_GLOBAL_QUOTAS };

  constructor(private readonly store: Store) {}

  set(overrides: Record<string, number>): void {
    Object.assign(this.limits, overrides);
  }

  private usage(metric: string, region: string | null): number {
    if (metric === 'INSTANCE_GROUP_MANAGERS' || metric === 'INSTANCE_GROUPS') {
      const kind = metric === 'INSTANCE_GROUPS' ? 'instanceGroups' : 'instanceGroupManagers';
      return this.store.all(kind).filter((r) => inRegion(r, region)).length;
    }
    const kind = Object.entries(GLOBAL_COUNTED).find(([, m]) => m === metric)?.[0];
    if (kind) return this.store.all(kind).length;
    let n = 0;
    for (const vm of this.store.all('instances')) {
      if (vm.status === 'TERMINATED' || !inRegion(vm, metric.endsWith('ALL_REGIONS') ? null : region)) continue;
      n += vmUsage(vm)[metric] ?? 0;
    }
    return n;
  }

  /** `Region.quotas` / `Project.quotas`: every metric of the scope with its limit and usage. */
  report(region: string | null): QuotaEntry[] {
    const metrics = Object.keys(region ? DEFAULT_REGIONAL_QUOTAS : DEFAULT_GLOBAL_QUOTAS);
    return metrics.map((metric) => ({ metric, limit: this.limits[metric], usage: this.usage(metric, region) }));
  }

  /** Throws QUOTA_EXCEEDED when inserting one resource of a global kind would go over its quota. */
  checkGlobalInsert(kind: string): void {
    const metric = GLOBAL_COUNTED[kind];
    if (metric) this.check(metric, 1, null);
  }

  checkGroupInsert(zone: string): void {
    this.check('INSTANCE_GROUP_MANAGERS', 1, regionOf(zone));
    this.check('INSTANCE_GROUPS', 1, regionOf(zone));
  }

  /** Throws QUOTA_EXCEEDED when one more VM of these properties would go over any quota. */
  checkVm(zone: string, props: Record<string, unknown>): void {
    for (const [metric, amount] of Object.entries(vmUsage(props))) {
      if (amount > 0) this.check(metric, amount, metric.endsWith('ALL_REGIONS') ? null : regionOf(zone));
    }
  }

  private check(metric: string, amount: number, region: string | null): void {
    const limit = this.limits[metric];
    if (limit === undefined || this.usage(metric, region) + amount <= limit) return;
    const where = region ? `in region ${region}` : 'globally';
    throw new ApiError(403, 'QUOTA_EXCEEDED', `Quota '${metric}' exceeded.  Limit: ${limit.toFixed(1)} ${where}.`, {
      errorDetails: [
        {
          quotaInfo: {
            metricName: `compute.googleapis.com/${metric.toLowerCase()}`,
            limitName: `${metric.replace(/_/g, '-')}-per-project${region ? '-region' : ''}`,
            ...(region ? { dimensions: { region } } : {}),
            limit,
          },
        },
      ],
    });
  }
}

function inRegion(r: Resource, region: string | null): boolean {
  if (region === null) return true;
  const zone = /\/zones\/([^/]+)\//.exec(r.selfLink)?.[1];
  return zone !== undefined && regionOf(zone) === region;
}
