/**
 * How each step changes recorded state. The executor records `mutationsOnStart` before a
 * verb runs (the intent: a pending operation and the in-between lifecycle), then
 * `mutationsOnSuccess` or `mutationsOnFailure` after it. Pure: time and lock come in.
 * Only unresolved desired values are ever copied, so no secret value reaches state.
 */
import {
  REVISION_DEFAULTS,
  type Deployment,
  type Environment,
  type Revision,
  type SplitEntry,
} from '../model/environment.js';
import type { PlanStep } from '../model/plan.js';
import {
  canTransition,
  type LifecycleState,
  type Mutation,
  type RecordedRevision,
  type RecordedState,
} from '../model/state.js';
import { deepEqualJson, specOf } from './immutability.js';
import { isActive } from './rollout.js';
import { settingsMutations } from './settings.js';
import { copySplit, weightOf } from './splits.js';

export interface OutcomeContext {
  desired: Environment;
  /** Current recorded state, every earlier mutation applied. */
  state: RecordedState;
  now: Date;
  lockId: string;
}

export interface StepResult {
  outputs?: Record<string, unknown>;
  endpoint?: string;
  applied_entries?: SplitEntry[];
  /** Stage and warm: store version ids of the secrets the deployer was given (recorded, never values). */
  secret_versions?: Record<string, string>;
}

export function mutationsOnStart(step: PlanStep, ctx: OutcomeContext): Mutation[] {
  const out = touchDeployment(step, ctx);
  out.push({ kind: 'pending', op: { step_id: step.id, started_at: ctx.now.toISOString(), lock_id: ctx.lockId } });
  if (step.revision_id === null) return out;

  const rec = ctx.state.revisions[step.revision_id];
  const desired = desiredRevision(ctx.desired, step);
  switch (step.verb) {
    case 'stage':
      if (!rec) {
        out.push({ kind: 'revision', revision: newRecord(step, desired, ctx.now) });
      } else if (step.from && rec.lifecycle !== step.from && canTransition(rec.lifecycle, step.from)) {
        // Drift: the planner treated a vanished ready revision as failed; record that first
        // so the recorded history only ever takes allowed transitions.
        out.push({ kind: 'revision', revision: refreshed(rec, desired, ctx.now, { lifecycle: step.from }) });
      }
      break;
    case 'warm':
      if (rec) out.push({ kind: 'revision', revision: refreshed(rec, desired, ctx.now, { lifecycle: 'warming' }) });
      break;
    case 'drain':
      if (rec) out.push({ kind: 'revision', revision: refreshed(rec, desired, ctx.now, { lifecycle: 'draining' }) });
      break;
    default:
      break;
  }
  return out;
}

export function mutationsOnSuccess(step: PlanStep, ctx: OutcomeContext, result: StepResult): Mutation[] {
  const out: Mutation[] = donePending(step, ctx.state);
  if (step.verb === 'apply_traffic_split') {
    const entries = copySplit(result.applied_entries ?? step.split?.after ?? []);
    const rec = ctx.state.deployments[step.deployment_id];
    const dd = desiredDeployment(ctx.desired, step.deployment_id);
    const listen = dd?.listen ?? rec?.listen ?? null;
    const metricsListen = dd ? (dd.metrics_listen ?? null) : (rec?.metrics_listen ?? null);
    if (!rec || rec.listen !== listen || (rec.metrics_listen ?? null) !== metricsListen) {
      const deployer = rec?.deployer ?? dd?.deployer ?? '';
      out.push({
        kind: 'deployment',
        deployment: {
          ...(rec ? structuredClone(rec) : {}),
          deployment_id: step.deployment_id,
          deployer,
          listen,
          metrics_listen: metricsListen,
          split: entries,
          ...(rec || !dd ? {} : { rollout_strategy: structuredClone(dd.rollout ?? null) }),
        },
      });
    } else {
      out.push({ kind: 'split', deployment_id: step.deployment_id, entries });
    }
    // A plain split ends a rollout in progress (the file moved on); a rollout step records its own
    // progress, and a rolled-back or aborted one stays on record so the plan can say the file diverges.
    if (!step.rollout && isActive(rec?.rollout)) {
      out.push({ kind: 'rollout', deployment_id: step.deployment_id, rollout: null });
    }
    return out;
  }
  if (step.verb === 'update' && step.revision_id === null) return [...out, ...settingsMutations(step, ctx.desired)];

  const desired = desiredRevision(ctx.desired, step);
  const rec = ctx.state.revisions[step.revision_id!] ?? newRecord(step, desired, ctx.now);
  const outputs = { ...rec.outputs, ...structuredClone(result.outputs ?? {}) };
  switch (step.verb) {
    case 'stage':
      out.push({
        kind: 'revision',
        revision: refreshed(rec, desired, ctx.now, {
          lifecycle: 'staged',
          spec: desired ? specOf(desired) : rec.spec,
          staged_at: rec.staged_at ?? ctx.now.toISOString(),
          outputs,
          last_error: null,
          ...secretVersions(result),
        }),
      });
      break;
    case 'warm':
      out.push({
        kind: 'revision',
        revision: refreshed(rec, desired, ctx.now, {
          lifecycle: 'ready',
          ready_at: rec.ready_at ?? ctx.now.toISOString(),
          outputs,
          endpoint: result.endpoint ?? rec.endpoint,
          last_error: null,
          ...secretVersions(result),
        }),
      });
      break;
    case 'update':
      // `refreshed` copies the file's mutable settings: recording them is the whole step.
      out.push({ kind: 'revision', revision: refreshed(rec, desired, ctx.now, {}) });
      break;
    case 'drain':
    case 'archive': {
      const patch: Partial<RecordedRevision> =
        step.verb === 'drain'
          ? { lifecycle: 'inactive', last_error: null }
          : { lifecycle: 'archived', endpoint: null, last_error: null };
      out.push({ kind: 'revision', revision: refreshed(rec, desired, ctx.now, patch) });
      // Only a teardown drains a revision the enforced split still names: that split is gone now.
      const split = ctx.state.deployments[step.deployment_id]?.split ?? [];
      if (weightOf(split, rec.revision_id) > 0)
        out.push({ kind: 'split', deployment_id: step.deployment_id, entries: [] });
      break;
    }
  }
  return out;
}

export function mutationsOnFailure(step: PlanStep, ctx: OutcomeContext, error: { message: string }): Mutation[] {
  const out: Mutation[] = [{ kind: 'pending_done', step_id: step.id }];
  if (step.revision_id === null) return out;
  const rec = ctx.state.revisions[step.revision_id];
  if (!rec) return out;
  const desired = desiredRevision(ctx.desired, step);
  const lifecycle: LifecycleState = step.verb === 'stage' || step.verb === 'warm' ? 'failed' : rec.lifecycle;
  out.push({ kind: 'revision', revision: refreshed(rec, desired, ctx.now, { lifecycle, last_error: error.message }) });
  return out;
}

/** The first step touching a deployment (or deployer) bp has not recorded yet records it. */
function touchDeployment(step: PlanStep, ctx: OutcomeContext): Mutation[] {
  const out: Mutation[] = [];
  const desired = desiredDeployment(ctx.desired, step.deployment_id);
  const rec = ctx.state.deployments[step.deployment_id];
  const deployerName = rec && step.verb !== 'stage' ? rec.deployer : (desired?.deployer ?? rec?.deployer);
  if (deployerName !== undefined) {
    const instance = ctx.desired.deployers[deployerName];
    // Keep the last declared instance so teardown still works after the file drops it.
    if (instance && !deepEqualJson(ctx.state.deployers[deployerName], instance)) {
      out.push({ kind: 'deployer', name: deployerName, instance: structuredClone(instance) });
    }
  }
  if (!rec && desired) {
    out.push({
      kind: 'deployment',
      deployment: {
        deployment_id: desired.deployment_id,
        deployer: desired.deployer,
        listen: desired.listen,
        metrics_listen: desired.metrics_listen ?? null,
        split: [],
        // Recorded with the deployment's first step: a later change of it is an `update` step.
        rollout_strategy: structuredClone(desired.rollout ?? null),
      },
    });
  } else if (rec && desired && step.verb === 'stage' && rec.deployer !== desired.deployer) {
    // The planner only lets the deployer change once every revision is archived; the first
    // new revision moves the deployment over.
    out.push({ kind: 'deployment', deployment: { ...rec, split: copySplit(rec.split), deployer: desired.deployer } });
  }
  return out;
}

function donePending(step: PlanStep, state: RecordedState): Mutation[] {
  const out: Mutation[] = [{ kind: 'pending_done', step_id: step.id }];
  if (step.revision_id === null) return out;
  // Intents left by an interrupted apply for other verbs of this revision are settled now.
  const suffix = `:${step.deployment_id}/${step.revision_id}`;
  for (const id of Object.keys(state.pending).sort()) {
    if (id !== step.id && id.endsWith(suffix)) out.push({ kind: 'pending_done', step_id: id });
  }
  return out;
}

// Deployments by id, per environment object: a scan of every deployment for each mutation
// made recording a 10k-step apply quadratic. Environments are not mutated once planned.
const deploymentIndex = new WeakMap<Environment, Map<string, Deployment>>();

function desiredDeployment(env: Environment, deploymentId: string): Deployment | undefined {
  let index = deploymentIndex.get(env);
  if (!index) {
    index = new Map();
    for (const d of env.deployments) if (!index.has(d.deployment_id)) index.set(d.deployment_id, d); // first wins, as find() did
    deploymentIndex.set(env, index);
  }
  return index.get(deploymentId);
}

function desiredRevision(env: Environment, step: PlanStep): Revision | undefined {
  return desiredDeployment(env, step.deployment_id)?.revisions.find((r) => r.revision_id === step.revision_id);
}

function secretVersions(result: StepResult): Partial<RecordedRevision> {
  return result.secret_versions && Object.keys(result.secret_versions).length > 0
    ? { secret_versions: { ...result.secret_versions } }
    : {};
}

function newRecord(step: PlanStep, desired: Revision | undefined, now: Date): RecordedRevision {
  return {
    revision_id: step.revision_id!,
    deployment_id: step.deployment_id,
    lifecycle: 'inactive',
    spec: null,
    drain_seconds: desired?.drain_seconds ?? REVISION_DEFAULTS.drain_seconds,
    ttl: desired?.ttl ?? null,
    staged_at: null,
    updated_at: now.toISOString(),
    outputs: {},
    endpoint: null,
    last_error: null,
  };
}

/** A fresh copy of the record with the patch applied and the mutable settings refreshed. */
function refreshed(
  rec: RecordedRevision,
  desired: Revision | undefined,
  now: Date,
  patch: Partial<RecordedRevision>,
): RecordedRevision {
  const base = { ...structuredClone(rec), ...patch };
  // The health timeout is a setting too (bp's warm waits that long); the rest of the spec is fixed.
  if (desired && base.spec) base.spec.health.timeout_seconds = desired.health.timeout_seconds;
  return {
    ...base,
    drain_seconds: desired?.drain_seconds ?? rec.drain_seconds,
    ttl: desired ? desired.ttl : rec.ttl,
    updated_at: now.toISOString(),
  };
}
