/**
 * Names, labels and descriptions of what bp creates in Compute Engine. bp ids allow upper
 * case, dots and underscores; resource names and label values do not, so names carry a
 * readable slug plus a hash of the exact ids, and the exact ids travel in each resource's
 * `description` (JSON) and in the VM metadata, where `observe` reads them back.
 */
import { nameHash, slug } from '../kit/names.js';

const MARK = 'bp/v1';

/**
 * A label value: lower case letters, digits, `-` and `_`, at most 63 characters. Folding
 * case and punctuation alone would map `Prod.EU` and `prod-eu` to one value (each would see the
 * other's VMs as its own drift), so a hash of the exact id follows the readable part.
 */
export function labelValue(id: string): string {
  return `${id
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 54)}-${nameHash(id)}`;
}

export interface RevisionNames {
  template: string;
  healthCheck: string;
  group: string;
  backendService: string;
}

export function revisionNames(environmentId: string, revisionId: string): RevisionNames {
  const base = `bp-${slug(revisionId, 36)}-${nameHash(environmentId, revisionId)}`;
  return { template: `${base}-it`, healthCheck: `${base}-hc`, group: `${base}-ig`, backendService: `${base}-bs` };
}

export interface DeploymentNames {
  urlMap: string;
  proxy: string;
  forwardingRule: string;
}

export function deploymentNames(environmentId: string, deploymentId: string): DeploymentNames {
  const base = `bp-${slug(deploymentId, 36)}-${nameHash(environmentId, 'deployment', deploymentId)}`;
  return { urlMap: `${base}-um`, proxy: `${base}-tp`, forwardingRule: `${base}-fr` };
}

export interface Marker {
  mark: typeof MARK;
  environment: string;
  deployment: string;
  revision?: string;
  /** On URL maps: the exact basis points bp applied (weights on the wire are per mille). */
  split?: Record<string, number>;
}

export function describe(m: Omit<Marker, 'mark'>): string {
  return JSON.stringify({ mark: MARK, ...m });
}

/** The marker in a resource's description, or null when bp did not create it. */
export function markerOf(description: unknown): Marker | null {
  if (typeof description !== 'string' || !description.startsWith('{')) return null;
  try {
    const m = JSON.parse(description) as Partial<Marker>;
    return m.mark === MARK && typeof m.environment === 'string' && typeof m.deployment === 'string'
      ? (m as Marker)
      : null;
  } catch {
    return null;
  }
}

export const LABELS = { environment: 'bp-environment', deployment: 'bp-deployment', revision: 'bp-revision' } as const;
export const REVISION_METADATA_KEY = 'bp-revision-id';
