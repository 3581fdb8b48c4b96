/**
 * Running a deployer's own pre-call checks at `bp validate`: the plugin's `checkEnvironment`
 * walks the revisions of the deployments it serves, runs the same pure checks its verbs run
 * before any provider call (they throw), and reports each refusal at the path of the
 * offending value, so `bp validate` prints FILE:LINE:COL and nothing billable is ever created
 * for a step a provider limit would refuse. See docs/writing-a-deployer.md.
 */
import type { DeployerDeployment, DeployerRevision, EnvironmentProblem } from '../../model/deployer.js';
import type { Deployment, Environment } from '../../model/environment.js';
import { messageOf } from '../../model/errors.js';

/** One declared revision of a deployment served by `instance`, as its verbs would see it. */
export interface RevisionSite {
  deployment: DeployerDeployment;
  revision: DeployerRevision;
  /** `['deployments', i, 'revisions', j]`: where the revision is in env.yaml. */
  path: Array<string | number>;
}

function asDeployerRevision(r: Deployment['revisions'][number]): DeployerRevision {
  return { ...r, lifecycle: 'inactive', outputs: {}, endpoint: null };
}

/** The deployments `instance` serves, with their position in the file. */
export function deploymentsOf(
  env: Pick<Environment, 'deployments'>,
  instance: string,
): Array<{ deployment: DeployerDeployment; path: Array<string | number> }> {
  const out: Array<{ deployment: DeployerDeployment; path: Array<string | number> }> = [];
  env.deployments.forEach((d, i) => {
    if (d.deployer !== instance) return;
    out.push({ deployment: { ...d, revisions: d.revisions.map(asDeployerRevision) }, path: ['deployments', i] });
  });
  return out;
}

/** Every declared revision of the deployments `instance` serves. */
export function revisionsOf(env: Pick<Environment, 'deployments'>, instance: string): RevisionSite[] {
  return deploymentsOf(env, instance).flatMap(({ deployment, path }) =>
    deployment.revisions.map((revision, j) => ({ deployment, revision, path: [...path, 'revisions', j] })),
  );
}

/**
 * Where a size limit on what a revision's VMs boot with points: its largest `artifact.env`
 * value (the usual cause), else the artifact itself.
 */
export function largestEnvPath(site: RevisionSite): Array<string | number> {
  const entries = Object.entries(site.revision.artifact.env ?? {});
  if (entries.length === 0) return [...site.path, 'artifact'];
  const [key] = entries.reduce((a, b) => (Buffer.byteLength(b[1]) > Buffer.byteLength(a[1]) ? b : a));
  return [...site.path, 'artifact', 'env', key];
}

/**
 * Runs `check` (which throws like the verb would) and turns a refusal into a problem at `path`
 * (a function of the message, when the message says which value it is about).
 */
export function refusal(
  check: () => unknown,
  path: Array<string | number> | ((message: string) => Array<string | number>),
): EnvironmentProblem[] {
  try {
    check();
    return [];
  } catch (e) {
    const message = messageOf(e);
    return [{ path: typeof path === 'function' ? path(message) : path, message }];
  }
}

/**
 * Where an artifact refusal points: the `artifact.env` key the message names (`env "KEY"` or
 * `env variable "KEY"`), else the artifact.
 */
export function artifactPath(site: RevisionSite, message: string): Array<string | number> {
  const key = /env(?: variable)? "([^"]+)"/.exec(message)?.[1];
  return key !== undefined && key in (site.revision.artifact.env ?? {})
    ? [...site.path, 'artifact', 'env', key]
    : [...site.path, 'artifact'];
}

/** What a VM deployer checks per revision at validate, each refusal at the path of the offending value. */
export interface VmRevisionChecks {
  /** Throws when the artifact cannot run on the VM image. */
  artifact: () => unknown;
  /** Where an artifact refusal points (default: the env var it names, else the artifact). */
  artifactAt?: (message: string) => Array<string | number>;
  /** Throws when no machine size fits the revision's resources. */
  size: () => unknown;
  /** True when the boot script's own checks refuse the revision (reported once, elsewhere). */
  bootRefused: boolean;
  /** Throws when the boot payload (user data, custom data, metadata) is over the provider's limit. */
  bootPayload: () => unknown;
  /** The payload is built from the size (a template names its machine type): skip it when the size is refused. */
  payloadNeedsSize?: boolean;
}

/**
 * The artifact, the size, then the boot payload: the payload is only built for an artifact that
 * passed (its env is what fills it), so one mistake is reported once, where it is.
 */
export function vmRevisionProblems(site: RevisionSite, c: VmRevisionChecks): EnvironmentProblem[] {
  const artifact = refusal(c.artifact, c.artifactAt ?? ((m) => artifactPath(site, m)));
  const size = refusal(c.size, [...site.path, 'resources']);
  const found = [...artifact, ...size];
  if (artifact.length > 0 || (c.payloadNeedsSize && size.length > 0) || c.bootRefused) return found;
  return [...found, ...refusal(c.bootPayload, largestEnvPath(site))];
}

/** `vmRevisionProblems` of every revision `instance` serves, with the checks `checksOf` gives for each. */
export function vmEnvironmentProblems(
  env: Pick<Environment, 'deployments'>,
  instance: string,
  checksOf: (site: RevisionSite) => VmRevisionChecks,
): EnvironmentProblem[] {
  return revisionsOf(env, instance).flatMap((site) => vmRevisionProblems(site, checksOf(site)));
}

/** A deployment's revisions declared `ready` (each one warm, routed target), with their index in the file. */
export function readyRevisions(deployment: DeployerDeployment): Array<{ revision: DeployerRevision; index: number }> {
  return deployment.revisions.flatMap((revision, index) => (revision.state === 'ready' ? [{ revision, index }] : []));
}
