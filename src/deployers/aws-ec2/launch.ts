/**
 * What a revision's instances are: the instance type (from config or the catalog), the
 * startup script that runs the artifact, the tags that let `observe` find them, and the
 * deterministic names and client tokens that make every create call idempotent.
 */
import { createHash } from 'node:crypto';
import type { DeployerRevision } from '../../model/deployer.js';
import type { Resources } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';
import { checkImageReference } from '../kit/image-reference.js';
import { type CatalogSize, requireFit } from '../kit/catalog.js';

export const TAG_ENVIRONMENT = 'bp:environment';
export const TAG_DEPLOYMENT = 'bp:deployment';
export const TAG_REVISION = 'bp:revision';

export function instanceTypeFor(resources: Resources, override: string | undefined): string {
  if (override) return override;
  return requireFit(
    INSTANCE_CATALOG,
    resources,
    `no instance type in the aws-ec2 catalog fits cpu ${resources.cpu}, memory_mb ${resources.memory_mb}, gpu ${resources.gpu}; set instance_type in the deployer config`,
  ).name;
}

/** Smallest first; the first that fits cpu, memory and gpu wins. */
const INSTANCE_CATALOG: readonly CatalogSize[] = [
  { name: 't3.nano', cpu: 2, memory_mb: 512, gpu: 0 },
  { name: 't3.micro', cpu: 2, memory_mb: 1024, gpu: 0 },
  { name: 't3.small', cpu: 2, memory_mb: 2048, gpu: 0 },
  { name: 't3.medium', cpu: 2, memory_mb: 4096, gpu: 0 },
  { name: 't3.large', cpu: 2, memory_mb: 8192, gpu: 0 },
  { name: 'm6i.xlarge', cpu: 4, memory_mb: 16384, gpu: 0 },
  { name: 'm6i.2xlarge', cpu: 8, memory_mb: 32768, gpu: 0 },
  { name: 'm6i.4xlarge', cpu: 16, memory_mb: 65536, gpu: 0 },
  { name: 'g5.xlarge', cpu: 4, memory_mb: 16384, gpu: 1 },
  { name: 'g5.2xlarge', cpu: 8, memory_mb: 32768, gpu: 1 },
  { name: 'g5.12xlarge', cpu: 48, memory_mb: 196608, gpu: 4 },
];

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/**
 * Target group names are unique per account and region, at most 32 alphanumerics or
 * hyphens: a hash of environment and revision keeps them unique, the readable tail helps people.
 */
export function targetGroupName(environmentId: string, revisionId: string): string {
  const tail = revisionId.replace(/[^A-Za-z0-9-]/g, '-');
  return `bp-${digest(environmentId, revisionId).slice(0, 10)}-${tail}`.slice(0, 32).replace(/-+$/, '');
}

/**
 * RunInstances' ClientToken, one per launch attempt and subnet call. A retry of the same
 * attempt (its answer was lost, DescribeInstances does not show the instances yet) sends the
 * same token and gets the same instances back; a new attempt (the revision lost instances
 * and needs new ones) has a new number and therefore a new token, since EC2 keeps a token
 * bound to its launch for at least 24 hours after the instances end
 * (IdempotentInstanceTerminated). At most 64 ASCII characters.
 */
export function launchToken(
  environmentId: string,
  revisionId: string,
  attempt: number,
  count: number,
  subnetId: string,
): string {
  return `bp-${digest(environmentId, revisionId, String(attempt), String(count), subnetId).slice(0, 60)}`;
}

/** The target group tag that records the revision's launch attempts (see `LaunchAttempts`). */
export const TAG_LAUNCH = 'bp:launch-attempt';

/**
 * The next launch attempt from the recorded one. The tag holds `N` once attempt N finished,
 * `N/<decision>` while it runs; the same decision (same live instances, same count) while N
 * runs is a retry of N, anything else starts N + 1.
 */
export function nextAttempt(
  recorded: string | undefined,
  liveIds: string[],
  wanted: number,
): { attempt: number; tag: string; retry: boolean } {
  const decision = digest([...liveIds].sort().join(','), String(wanted)).slice(0, 16);
  const m = /^(\d+)(?:\/([0-9a-f]+))?$/.exec(recorded ?? '');
  const last = m ? Number(m[1]) : 0;
  if (m?.[2] === decision) return { attempt: last, tag: `${last}/${decision}`, retry: true };
  return { attempt: last + 1, tag: `${last + 1}/${decision}`, retry: false };
}

export function revisionTags(
  environmentId: string,
  deploymentId: string,
  revisionId: string,
): Array<{ Key: string; Value: string }> {
  return [
    { Key: 'Name', Value: `bp/${environmentId}/${revisionId}` },
    { Key: TAG_ENVIRONMENT, Value: environmentId },
    { Key: TAG_DEPLOYMENT, Value: deploymentId },
    { Key: TAG_REVISION, Value: revisionId },
  ];
}

/** Throws before any provider call when the artifact is not one EC2 instances can run. */
export function checkArtifact(revision: DeployerRevision): void {
  const a = revision.artifact;
  if (!a.image && !a.binary) {
    throw new ProviderError(
      `revision "${revision.revision_id}": aws-ec2 runs artifact.image or artifact.binary, not artifact.command`,
    );
  }
  if (a.image) checkImageReference(revision.revision_id, a.image);
  for (const [k, v] of Object.entries(a.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\n\r\0]/.test(v)) {
      throw new ProviderError(
        `revision "${revision.revision_id}": env variable "${k}" needs a shell-safe name and a single-line value`,
      );
    }
  }
}

// The user data moved to boot-script.ts; re-exported for callers of this module.
export { ecrRegistry, userData } from './boot-script.js';
