/**
 * Names and tags of what bp creates in Azure. bp ids allow upper case, dots and underscores;
 * DNS labels do not, so names carry a readable slug plus a hash of the exact ids, and the exact
 * ids travel in tags (`bp-environment`, `bp-deployment`, `bp-revision`), which `observe` reads.
 */
import { nameHash, slug } from '../kit/names.js';

export const TAGS = {
  managedBy: 'bp-managed-by',
  environment: 'bp-environment',
  deployment: 'bp-deployment',
  revision: 'bp-revision',
} as const;
/**
 * Profile tag prefixes older bp versions wrote per endpoint (basis points, revision id). No
 * longer written: two tags per revision reached ARM's 50-tag limit at 24 revisions; endpoint
 * names are derived from revision ids, and the split reported is the one Traffic Manager enforces.
 */
export const BPS_TAG = 'bp-bps-';
export const REVISION_TAG = 'bp-rev-';

export interface RevisionNames {
  /** Also the Traffic Manager endpoint name and the public IP's DNS label. */
  base: string;
  publicIp: string;
  loadBalancer: string;
  nic: (i: number) => string;
  vm: (i: number) => string;
}

/** DNS labels are unique per region across Azure, so the hash includes the subscription and group. */
export function revisionNames(scope: string, environmentId: string, revisionId: string): RevisionNames {
  const base = `bp-${slug(revisionId, 36)}-${nameHash(scope, environmentId, revisionId)}`;
  return {
    base,
    publicIp: `${base}-pip`,
    loadBalancer: `${base}-lb`,
    nic: (i) => `${base}-nic-${i}`,
    vm: (i) => `${base}-vm-${i}`,
  };
}

export interface DeploymentNames {
  profile: string;
  /** Traffic Manager relative DNS name: `<name>.trafficmanager.net`, unique across Azure. */
  dnsName: string;
}

export function deploymentNames(scope: string, environmentId: string, deploymentId: string): DeploymentNames {
  const name = `bp-${slug(deploymentId, 40)}-${nameHash(scope, environmentId, 'deployment', deploymentId)}`;
  return { profile: name, dnsName: name };
}

export function revisionTags(environmentId: string, deploymentId: string, revisionId: string): Record<string, string> {
  return {
    [TAGS.managedBy]: 'bp',
    [TAGS.environment]: environmentId,
    [TAGS.deployment]: deploymentId,
    [TAGS.revision]: revisionId,
  };
}

export function isMine(tags: Record<string, string> | undefined, environmentId: string): boolean {
  return tags?.[TAGS.managedBy] === 'bp' && tags[TAGS.environment] === environmentId;
}
