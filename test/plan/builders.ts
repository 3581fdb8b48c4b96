/** Small builders for planner inputs: a revision, a deployment, an environment, recorded state. */
import type { Deployment, Environment, Revision, RolloutStep, SplitEntry } from '../../src/model/environment.js';
import type {
  PendingOperation,
  RecordedDeployment,
  RecordedRevision,
  RecordedState,
  RolloutProgress,
} from '../../src/model/state.js';
import type { LifecycleState } from '../../src/model/state.js';

export const NOW = new Date('2025-03-01T12:00:00.000Z');
export const LINEAGE = '00000000-0000-4000-8000-000000000001';

export function rev(id: string, o: Partial<Revision> = {}): Revision {
  return {
    revision_id: id,
    artifact: { command: ['node', 'app/server.js'], env: { GREETING: 'hello' } },
    resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 30 },
    drain_seconds: 5,
    ttl: null,
    state: 'ready',
    ...o,
  };
}

/** A rollout of v2 from v1 at its first step, started NOW, with the given steps. */
export function rolloutProgress(steps: RolloutStep[], o: Partial<RolloutProgress> = {}): RolloutProgress {
  return {
    canary: 'v2',
    stable: split(['v1', 10000]),
    target: split(['v2', 10000]),
    steps,
    on_failure: 'rollback',
    step: 0,
    step_started_at: NOW.toISOString(),
    pause_until: null,
    measurements: [],
    promoted: null,
    status: 'progressing',
    message: '',
    started_at: NOW.toISOString(),
    updated_at: NOW.toISOString(),
    ...o,
  };
}

/** `split(['v1', 9000], ['v2', 1000])` */
export function split(...pairs: Array<[string, number]>): SplitEntry[] {
  return pairs.map(([revision_id, weight_bps]) => ({ revision_id, weight_bps }));
}

export function dep(id: string, revisions: Revision[], traffic: SplitEntry[], o: Partial<Deployment> = {}): Deployment {
  return { deployment_id: id, deployer: 'local', listen: '127.0.0.1:8080', revisions, traffic, ...o };
}

export function env(deployments: Deployment[], o: Partial<Environment> = {}): Environment {
  return {
    schema: 'bp.environment/v1',
    environment_id: 'demo',
    deployers: { local: { type: 'local-process', config: {} } },
    deployments,
    notifications: [],
    ...o,
  };
}

export interface RecordedSpec {
  /** Lifecycle per revision id; revisions not listed are not recorded. */
  lifecycles: Record<string, LifecycleState>;
  /** Enforced split per deployment id; deployments not listed are recorded with [] when they have revisions. */
  splits?: Record<string, SplitEntry[]>;
  /** Deployment of revisions the desired env does not declare. */
  placement?: Record<string, string>;
  /** Extra recorded deployments (e.g. removed from the file). */
  deployments?: RecordedDeployment[];
  pending?: string[];
  stagedAt?: string;
  revisions?: Record<string, Partial<RecordedRevision>>;
}

/** Recorded state consistent with `desired`: specs as declared, lifecycles as given. */
export function recorded(desired: Environment, spec: RecordedSpec): RecordedState {
  const revisions: Record<string, RecordedRevision> = {};
  const deployments: Record<string, RecordedDeployment> = {};
  const declared = new Map<string, { d: Deployment; r: Revision }>();
  for (const d of desired.deployments) for (const r of d.revisions) declared.set(r.revision_id, { d, r });
  for (const [id, lifecycle] of Object.entries(spec.lifecycles)) {
    const hit = declared.get(id);
    const deploymentId = spec.placement?.[id] ?? hit?.d.deployment_id;
    if (!deploymentId) throw new Error(`builder: say where revision ${id} lives`);
    const r = hit?.r ?? rev(id);
    const staged = lifecycle !== 'inactive' || spec.revisions?.[id]?.spec !== undefined;
    revisions[id] = {
      revision_id: id,
      deployment_id: deploymentId,
      lifecycle,
      spec: staged
        ? { artifact: structuredClone(r.artifact), resources: { ...r.resources }, health: { ...r.health } }
        : null,
      drain_seconds: r.drain_seconds,
      ttl: r.ttl,
      staged_at: staged ? (spec.stagedAt ?? '2025-03-01T00:00:00.000Z') : null,
      updated_at: '2025-03-01T00:00:00.000Z',
      outputs: {},
      endpoint: lifecycle === 'ready' ? `http://${id}.local` : null,
      last_error: null,
      ...spec.revisions?.[id],
    };
    if (!deployments[deploymentId]) {
      const d = desired.deployments.find((x) => x.deployment_id === deploymentId);
      deployments[deploymentId] = {
        deployment_id: deploymentId,
        deployer: d?.deployer ?? 'local',
        listen: d?.listen ?? '127.0.0.1:8080',
        split: [],
        rollout_strategy: structuredClone(d?.rollout ?? null),
      };
    }
  }
  for (const d of spec.deployments ?? []) deployments[d.deployment_id] = d;
  for (const [id, entries] of Object.entries(spec.splits ?? {})) {
    if (deployments[id]) deployments[id].split = entries;
  }
  const pending: Record<string, PendingOperation> = {};
  for (const id of spec.pending ?? [])
    pending[id] = { step_id: id, started_at: '2025-03-01T11:00:00.000Z', lock_id: 'old-lock' };
  return {
    format_version: 'bp.state/v1',
    environment_id: desired.environment_id,
    lineage: LINEAGE,
    serial: 3,
    deployers: structuredClone(desired.deployers),
    deployments,
    revisions,
    pending,
    updated_at: '2025-03-01T00:00:00.000Z',
  };
}
