/**
 * The environment as declared in env.yaml (docs/design.md#environment-format), after `spec` has parsed,
 * validated and normalized it: every default filled in, nothing resolved (`${env:NAME}`
 * references stay as written so secret values never reach state, plans or logs).
 */

export const ENVIRONMENT_SCHEMA = 'bp.environment/v1' as const;

/** The desired lifecycle an operator may declare for a revision. */
export type DesiredState = 'ready' | 'inactive' | 'archived';

export interface Artifact {
  /** argv; the first element is resolved on PATH or relative to `cwd`. */
  command?: string[];
  image?: string;
  binary?: string;
  /** Working directory for `command`, relative to the env file's directory. */
  cwd?: string;
  /** Values may hold `${env:NAME}` references, resolved only at apply time. */
  env: Record<string, string>;
}

export interface Resources {
  cpu: number;
  memory_mb: number;
  replicas: number;
  gpu: number;
  max_replicas?: number;
}

export interface Health {
  http_path: string;
  timeout_seconds: number;
}

export interface Revision {
  revision_id: string;
  artifact: Artifact;
  resources: Resources;
  health: Health;
  drain_seconds: number;
  /** Duration string (`30s`, `15m`, `2h`, `7d`) or null when the revision never expires. */
  ttl: string | null;
  state: DesiredState;
  /**
   * Set by the normalizer when the file gives no `state:` (so `state` is the default `ready`).
   * A revision at 0% that was drained or archived then keeps its recorded lifecycle instead of
   * being staged and warmed again (docs/design.md#lifecycle).
   */
  state_defaulted?: true;
}

export interface SplitEntry {
  revision_id: string;
  weight_bps: number;
}

export interface Deployment {
  deployment_id: string;
  /** Name of an entry in `Environment.deployers`. */
  deployer: string;
  listen: string | null;
  /** Where the deployment's router serves Prometheus metrics; null: a free loopback port. Always set by the normalizer. */
  metrics_listen?: string | null;
  revisions: Revision[];
  traffic: SplitEntry[];
  /** How traffic moves to a new revision; null: straight to the declared split. Always set by the normalizer. */
  rollout?: Rollout | null;
}

export type AnalysisProvider = 'router' | 'prometheus';

/** A metric gate (env.yaml shape, defaults filled in). */
export interface Analysis {
  metric: string;
  min?: number;
  max?: number;
  /** Duration string, as written (`30s`). */
  interval: string;
  count: number;
  provider: AnalysisProvider;
  address?: string;
  query?: string;
}

/** One rollout step, exactly one key (env.yaml shape; `pause: 2m` normalized to `{ duration: '2m' }`). */
export type RolloutStep = { weight_bps: number } | { pause: { duration?: string } } | { analysis: Analysis };

export interface Rollout {
  steps: RolloutStep[];
  on_failure: 'rollback' | 'pause';
}

export const BUILTIN_METRICS = ['success_rate', 'latency_p99_ms'] as const;

export interface DeployerInstance {
  /** Built-in type name, a plugin path (`./x.mjs`) or an npm package name. */
  type: string;
  config: Record<string, unknown>;
}

export interface Notification {
  url: string;
  events: string[];
  /** Usually a `${env:NAME}` reference; never persisted resolved. */
  secret?: string;
}

export interface Environment {
  schema: typeof ENVIRONMENT_SCHEMA;
  environment_id: string;
  deployers: Record<string, DeployerInstance>;
  deployments: Deployment[];
  notifications: Notification[];
}

/** Defaults the normalizer fills in (docs/design.md#environment-format). */
export const REVISION_DEFAULTS = {
  resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 } satisfies Resources,
  health: { http_path: '/healthz', timeout_seconds: 30 } satisfies Health,
  drain_seconds: 30,
  state: 'ready' as DesiredState,
};

export const FULL_WEIGHT_BPS = 10000;

/** `[A-Za-z0-9][A-Za-z0-9._-]{0,62}`: safe as a path segment, a label and a shell word. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';
export const ID_REGEX = new RegExp(ID_PATTERN);

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
/** At most 9 digits each side of the point: every duration stays a finite, exact number of ms. */
export const DURATION_PATTERN = '^[0-9]{1,9}(\\.[0-9]{1,9})?(s|m|h|d)$';

/**
 * Parses `30s`, `15m`, `2h`, `7d` (also `1.5h`) into milliseconds; null when malformed.
 * Values above Node's 2^31-1 ms timer limit are valid: bp's timers wait them out in chunks.
 */
export function parseDurationMs(text: string): number | null {
  const m = /^([0-9]{1,9}(?:\.[0-9]{1,9})?)(s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_SECONDS[m[2]] * 1000);
}
