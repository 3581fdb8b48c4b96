/**
 * The deployer plugin API (docs/design.md#plugin-api). Plugins need not depend on bp: every type
 * here is plain data, and errors are recognised by their `code`, not their class.
 */
import type { Deployment, Environment, Revision, SplitEntry } from './environment.js';
import { FULL_WEIGHT_BPS } from './environment.js';
import { InvalidSplitError, RevisionNotFoundError, SplitNotFoundError } from './errors.js';
import type { LifecycleState } from './state.js';

export const DEPLOYER_API_VERSION = 1 as const;

/** A revision as deployers see it: the declared revision plus what bp has recorded. */
export interface DeployerRevision extends Revision {
  lifecycle: LifecycleState;
  outputs: Record<string, unknown>;
  endpoint: string | null;
}

export interface DeployerDeployment extends Omit<Deployment, 'revisions'> {
  revisions: DeployerRevision[];
}

/**
 * The normalized environment handed to deployers: env.yaml's shape with defaults filled,
 * `${env:NAME}` values resolved (in memory only), recorded lifecycle and outputs per revision,
 * and every deployment and revision recorded state still knows (desired `archived`).
 * A deployer instance is only shown the deployments assigned to it.
 */
export interface DeployerEnvironment extends Omit<Environment, 'deployments'> {
  deployments: DeployerDeployment[];
  /** Absolute directory of the env file: relative artifact paths resolve against it. */
  base_dir: string;
}

export interface VerbOptions {
  signal: AbortSignal;
  /**
   * Optional (absent when bp does not render progress): tells bp what the verb waits for now.
   * Call it as often as a wait is checked; bp shows the latest report live (docs/writing-a-deployer.md).
   */
  progress?: (p: VerbProgress) => void;
}

/** What a running verb waits for, e.g. replicas of "web-v2" to answer /healthz: 1/2 replicas healthy, last probe ECONNREFUSED. */
export interface VerbProgress {
  /** What is awaited, worded to follow "waiting for": `replicas of "web-v2" to answer /healthz`. */
  waiting_for: string;
  /** How far it got: `1/2 replicas healthy`. */
  status?: string;
  /** What the last check saw: `connect ECONNREFUSED 127.0.0.1:4100`. */
  last?: string;
}

export interface StageResult {
  outputs?: Record<string, unknown>;
}

export interface WarmResult {
  outputs?: Record<string, unknown>;
  endpoint?: string;
}

export interface SplitResult {
  applied_deployment_id: string;
  applied_entries: SplitEntry[];
}

export interface ObservedRevision {
  present: boolean;
  healthy: boolean;
}

export interface Observation {
  revisions: Record<string, ObservedRevision>;
  splits: Record<string, SplitEntry[]>;
}

export interface RuntimeConfigEntry {
  deployment_id: string;
  revision_id: string;
  weight_bps: number;
  endpoint: string | null;
}

export interface RuntimeConfig {
  format_version: 'bp.runtime-config/v1';
  environment_id: string;
  revisions: RuntimeConfigEntry[];
}

/**
 * What a deployer's `reportRuntimeConfig` returns: bp uses `revisions`. Plugins written before
 * `format_version` send `schema: 'bp.runtime-config/v1'`, which is still accepted.
 */
export interface ReportedRuntimeConfig {
  format_version?: 'bp.runtime-config/v1';
  schema?: 'bp.runtime-config/v1';
  environment_id: string;
  revisions: RuntimeConfigEntry[];
}

export interface Deployer {
  stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult>;
  warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult>;
  drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<unknown>;
  archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<unknown>;
  applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult>;
  /**
   * Releases the deployment's routing (router, load-balancer rule), idempotently. bp decides
   * when: right before the archive of the deployment's last revision (docs/design.md#traffic-rules);
   * `archiveRevision` only takes its revision out of routing. Deployers whose routing goes away
   * with the revisions themselves omit it.
   */
  releaseRouting?(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<unknown>;
  observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation>;
  reportRuntimeConfig?(env: DeployerEnvironment): Promise<ReportedRuntimeConfig> | ReportedRuntimeConfig;
  /**
   * Optional: the deployment's traffic-layer metrics in Prometheus text exposition format
   * (bp's router metric names, see docs/metrics.md), read now. Rollout analyses with
   * `provider: router` need it; deployers without a router of their own omit it.
   */
  scrapeMetrics?(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<string>;
  /** Optional: release connections and timers when bp is done with the deployer. */
  close?(): Promise<void>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DeployerContext {
  logger: Logger;
  /** A directory private to this deployer instance, under bp's state directory. */
  stateDir: string;
}

/** A problem a plugin finds in the env file: `path` into env.yaml, reported at its FILE:LINE:COL. */
export interface EnvironmentProblem {
  path: Array<string | number>;
  message: string;
  /** Point at the mapping key rather than its value. */
  at?: 'key' | 'value';
}

export interface DeployerPlugin<Config = Record<string, unknown>> {
  type: string;
  apiVersion: typeof DEPLOYER_API_VERSION;
  configSchema: Record<string, unknown>;
  /**
   * Optional, pure: what this deployer cannot deploy as declared (rules beyond the config
   * schema, e.g. names the provider would refuse), checked at validate once `config` is valid.
   * `instance` is the deployer's name under `deployers`; only deployments using it concern it.
   */
  checkEnvironment?(config: Config, env: Environment, instance: string): EnvironmentProblem[];
  /**
   * Optional: the resolution of the provider's traffic weights in basis points (10 where it
   * weighs per mille). The pure planner shows, ahead of time, the split that will really be
   * enforced (`enforcedAtGranularity`: the kit's rounding) beside the one asked for, and the
   * deployer reports that same split as applied. Absent or 1: basis points as they are.
   */
  weightGranularityBps?: number;
  /**
   * Optional: the deployer delivers its revisions' secrets itself. `bp apply` then hands it
   * `artifact.env` as written, `${secret:...}` references unresolved, and never fetches those
   * values (the VM deployers fetch them at boot with the VM's identity, docs/secrets.md).
   * Its `checkEnvironment` must refuse the references it cannot deliver.
   */
  fetchesSecretsItself?: boolean;
  create(config: Config, ctx: DeployerContext): Deployer | Promise<Deployer>;
}

/** Identity helper so plugin authors get types without a cast. */
export function defineDeployer<Config = Record<string, unknown>>(
  plugin: DeployerPlugin<Config>,
): DeployerPlugin<Config> {
  return plugin;
}

/** Finds a revision or throws `RevisionNotFound` (call before any provider change). */
export function requireRevision(
  env: DeployerEnvironment,
  revisionId: string,
): { deployment: DeployerDeployment; revision: DeployerRevision } {
  for (const deployment of env.deployments) {
    const revision = deployment.revisions.find((r) => r.revision_id === revisionId);
    if (revision) return { deployment, revision };
  }
  throw new RevisionNotFoundError(revisionId, `environment ${env.environment_id}`);
}

/**
 * Returns the deployment and its split once the split is proven enforceable: present,
 * integer weights 0..10000 that sum to exactly 10000, each naming a revision of the
 * deployment. Throws `SplitNotFound` / `InvalidSplit` otherwise, before any provider call.
 */
export function enforceSplitInvariants(
  env: DeployerEnvironment,
  deploymentId: string,
): { deployment: DeployerDeployment; entries: SplitEntry[] } {
  const deployment = env.deployments.find((d) => d.deployment_id === deploymentId);
  if (!deployment || !Array.isArray(deployment.traffic) || deployment.traffic.length === 0) {
    throw new SplitNotFoundError(deploymentId);
  }
  let sum = 0;
  const seen = new Set<string>();
  for (const e of deployment.traffic) {
    const w = e.weight_bps;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > FULL_WEIGHT_BPS) {
      throw new InvalidSplitError(
        `split of "${deploymentId}": weight of "${e.revision_id}" must be an integer 0..10000, got ${String(w)}`,
      );
    }
    if (seen.has(e.revision_id)) {
      throw new InvalidSplitError(`split of "${deploymentId}" names revision "${e.revision_id}" twice`);
    }
    seen.add(e.revision_id);
    if (!deployment.revisions.some((r) => r.revision_id === e.revision_id)) {
      throw new InvalidSplitError(`split of "${deploymentId}" names unknown revision "${e.revision_id}"`);
    }
    sum += w;
  }
  if (sum !== FULL_WEIGHT_BPS) {
    throw new InvalidSplitError(`split of "${deploymentId}" sums to ${sum}, not 10000`);
  }
  return {
    deployment,
    entries: deployment.traffic.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps })),
  };
}
