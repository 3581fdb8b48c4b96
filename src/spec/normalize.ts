/**
 * Turns a validated environment value into the `Environment` model: every default filled
 * in, optional values made explicit (`listen: null`, `ttl: null`, `env: {}`), keys in a
 * stable order, nothing resolved.
 */
import {
  ENVIRONMENT_SCHEMA,
  REVISION_DEFAULTS,
  type Artifact,
  type DeployerInstance,
  type Deployment,
  type Environment,
  type Analysis,
  type Notification,
  type Revision,
  type Rollout,
  type RolloutStep,
  type SplitEntry,
} from '../model/environment.js';

// The value has passed schema and semantic validation; these types mirror its raw shape.
interface RawArtifact {
  command?: string[];
  image?: string;
  binary?: string;
  cwd?: string;
  env?: Record<string, string>;
}
interface RawRevision {
  revision_id: string;
  artifact: RawArtifact;
  resources?: Partial<Revision['resources']>;
  health?: Partial<Revision['health']>;
  drain_seconds?: number;
  ttl?: string;
  state?: Revision['state'];
}
interface RawDeployment {
  deployment_id: string;
  deployer: string;
  listen?: string;
  metrics_listen?: string;
  revisions: RawRevision[];
  traffic?: SplitEntry[];
  rollout?: RawRollout;
}
type RawStep =
  | { weight_bps: number }
  | { pause: string | { duration?: string } }
  | { analysis: Partial<Analysis> & { metric: string } };
interface RawRollout {
  steps: RawStep[];
  on_failure?: Rollout['on_failure'];
}
interface RawEnvironment {
  environment_id: string;
  deployers: Record<string, { type: string; config?: Record<string, unknown> }>;
  deployments: RawDeployment[];
  notifications?: Notification[];
}

export function normalizeEnvironment(value: unknown): Environment {
  const raw = value as RawEnvironment;
  const deployers: Record<string, DeployerInstance> = {};
  for (const [name, d] of Object.entries(raw.deployers)) deployers[name] = { type: d.type, config: d.config ?? {} };
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: raw.environment_id,
    deployers,
    deployments: raw.deployments.map(normalizeDeployment),
    notifications: (raw.notifications ?? []).map((n) => ({
      url: n.url,
      events: [...n.events],
      ...(n.secret !== undefined ? { secret: n.secret } : {}),
    })),
  };
}

function normalizeDeployment(d: RawDeployment): Deployment {
  return {
    deployment_id: d.deployment_id,
    deployer: d.deployer,
    listen: d.listen ?? null,
    metrics_listen: d.metrics_listen ?? null,
    revisions: d.revisions.map(normalizeRevision),
    traffic: (d.traffic ?? []).map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps })),
    rollout: d.rollout ? normalizeRollout(d.rollout) : null,
  };
}

function normalizeRollout(r: RawRollout): Rollout {
  return { steps: r.steps.map(normalizeStep), on_failure: r.on_failure ?? 'rollback' };
}

function normalizeStep(s: RawStep): RolloutStep {
  if ('weight_bps' in s) return { weight_bps: s.weight_bps };
  if ('pause' in s) {
    const duration = typeof s.pause === 'string' ? s.pause : s.pause.duration;
    return { pause: duration !== undefined ? { duration } : {} };
  }
  const a = s.analysis;
  const out: Analysis = {
    metric: a.metric,
    interval: a.interval ?? '30s',
    count: a.count ?? 1,
    provider: a.provider ?? 'router',
  };
  if (a.min !== undefined) out.min = a.min;
  if (a.max !== undefined) out.max = a.max;
  if (a.address !== undefined) out.address = a.address;
  if (a.query !== undefined) out.query = a.query;
  return { analysis: out };
}

function normalizeRevision(r: RawRevision): Revision {
  return {
    revision_id: r.revision_id,
    artifact: normalizeArtifact(r.artifact),
    resources: { ...REVISION_DEFAULTS.resources, ...r.resources },
    health: { ...REVISION_DEFAULTS.health, ...r.health },
    drain_seconds: r.drain_seconds ?? REVISION_DEFAULTS.drain_seconds,
    ttl: r.ttl ?? null,
    state: r.state ?? REVISION_DEFAULTS.state,
    ...(r.state === undefined ? { state_defaulted: true as const } : {}),
  };
}

function normalizeArtifact(a: RawArtifact): Artifact {
  const out: Partial<Artifact> = {};
  // Exactly one of command, image, binary is present (schema oneOf).
  if (a.command !== undefined) out.command = [...a.command];
  if (a.image !== undefined) out.image = a.image;
  if (a.binary !== undefined) out.binary = a.binary;
  if (a.cwd !== undefined) out.cwd = a.cwd;
  return { ...out, env: { ...a.env } };
}
