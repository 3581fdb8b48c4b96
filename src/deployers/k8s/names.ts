/**
 * How bp ids become Kubernetes names and labels. Every object name carries the environment
 * (`<environment>-<id>`), so two environments sharing a namespace never share an object; the
 * rare names that still coincide (`a-b` + `c` and `a` + `b-c`) are caught by the ownership
 * check before any write (ownership.ts). bp ids allow upper case, `.` and `_`, which Service
 * names (DNS-1035 labels) do not; a changed or shortened name gets a hash suffix so two ids
 * never map to one name. Exact ids always travel in annotations.
 */
import { createHash } from 'node:crypto';

export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  environment: 'bp.dev/environment',
  deployment: 'bp.dev/deployment',
  revision: 'bp.dev/revision',
  role: 'bp.dev/role',
} as const;

export const ANNOTATION = {
  environmentId: 'bp.dev/environment-id',
  deploymentId: 'bp.dev/deployment-id',
  revisionId: 'bp.dev/revision-id',
  /** serving | parked | drained: what bp last asked of a revision's Deployment. */
  state: 'bp.dev/state',
  /** The revision's declared replicas (its share of the pool is computed from it). */
  baseReplicas: 'bp.dev/base-replicas',
  /** The split bp enforced, as JSON entries, on the stable Service or HTTPRoute. */
  split: 'bp.dev/split',
  /** Replicas mode: the pool size the split was apportioned over. */
  pool: 'bp.dev/pool-replicas',
} as const;

export type Role = 'revision' | 'stable' | 'route';

const hash = (id: string, n: number) => createHash('sha256').update(id).digest('hex').slice(0, n);

/**
 * The name of the object bp keeps for `id` (a revision or a deployment) in `environmentId`: a
 * DNS-1035 label, valid for Services, Deployments, HPAs and HTTPRoutes alike.
 */
export function objectName(environmentId: string, id: string): string {
  return dnsLabel(`${environmentId}-${id}`);
}

/** `id` itself when it is a DNS-1035 label, else a cleaned stem plus a hash of `id`. */
export function dnsLabel(id: string): string {
  const clean = id.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (clean === id && /^[a-z]/.test(id) && /[a-z0-9]$/.test(id) && id.length <= 63) return id;
  const stem = (/^[a-z]/.test(clean) ? clean : `x${clean}`).slice(0, 54).replace(/-+$/, '');
  return `${stem}-${hash(id, 8)}`;
}

/** A label value: the id itself when valid, else a hashed variant. */
export function labelValue(id: string): string {
  if (/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(id) && id.length <= 63) return id;
  const stem = id
    .replace(/[^-A-Za-z0-9_.]/g, '-')
    .slice(0, 55)
    .replace(/[^A-Za-z0-9]+$/, '');
  return `${stem}-${hash(id, 7)}`;
}

export function baseLabels(environmentId: string, deploymentId: string): Record<string, string> {
  return {
    [LABEL.managedBy]: 'bp',
    [LABEL.environment]: labelValue(environmentId),
    [LABEL.deployment]: labelValue(deploymentId),
  };
}

/** The labels a revision's pods carry and its Deployment selects (immutable once created). */
export function revisionSelector(
  environmentId: string,
  deploymentId: string,
  revisionId: string,
): Record<string, string> {
  return {
    [LABEL.environment]: labelValue(environmentId),
    [LABEL.deployment]: labelValue(deploymentId),
    [LABEL.revision]: labelValue(revisionId),
  };
}

export function toSelectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function environmentSelector(environmentId: string): string {
  return toSelectorString({ [LABEL.managedBy]: 'bp', [LABEL.environment]: labelValue(environmentId) });
}

export function deploymentSelector(environmentId: string, deploymentId: string, role: Role): string {
  return toSelectorString({ ...baseLabels(environmentId, deploymentId), [LABEL.role]: role });
}
