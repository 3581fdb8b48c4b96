/**
 * The engine's two calls, in Terraform's shape: `planEnvironment` (refresh through the
 * deployers' `observe`, then the pure planner) and `applyEnvironment` (lock, re-plan or
 * check a saved plan for staleness, confirm, execute, checkpoint, materialize the runtime
 * config). The CLI is a thin shell around these.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger, Observation } from '../model/deployer.js';
import type { Environment } from '../model/environment.js';
import { BpError, messageOf, StaleStateError } from '../model/errors.js';
import type { Plan, Verb } from '../model/plan.js';
import { applyMutation, emptyState, type Actor, type RecordedState } from '../model/state.js';
import { historyEntry } from '../plan/history.js';
import { plan as computePlan } from '../plan/index.js';
import type { EnvReferenceSite } from '../spec/index.js';
import { resolveAt, resolveForApply, storeVersions } from './engine-references.js';
import { revisionSecretVersions } from './secrets/versions.js';
import type { StateBackend, StateSession } from '../state/backend.js';
import { deployerView, fullEnvironment } from './deployer-env.js';
import { DeployerSet } from './deployer-set.js';
import type { ApplyResult, EventSink } from './events.js';
import { executePlan } from './executor.js';
import type { AnalysisDeps } from './rollout-runner.js';
import type { RetryPolicy } from './retry.js';
import { withTimeout } from './retry.js';
import { writeRuntimeConfig } from './runtime-config.js';
import { assertClosed } from './walker.js';

export interface EngineContext {
  backend: StateBackend;
  /** Local directory for deployer files and the materialized runtime config. */
  stateDir: string;
  logger: Logger;
  emit: EventSink;
  clock: () => Date;
  /** Where `${env:NAME}` references resolve from (process.env). */
  vars: Record<string, string | undefined>;
}

export interface PlanRequest {
  desired: Environment;
  baseDir: string;
  targets?: string[];
  destroy?: boolean;
  refresh?: boolean;
  /** Where `desired` came from (file and positions), for FILE:LINE:COL in reference errors. */
  source?: EnvReferenceSite;
  /** `FILE:LINE:COL` of a path in the env file (from spec's parse), for plan messages. */
  locate?: (path: Array<string | number>) => string | null;
}

const OBSERVE_TIMEOUT_MS = 120_000;

/** Asks every deployer that runs something recorded what really runs (drift). */
export async function observeAll(
  ctx: EngineContext,
  desired: Environment,
  recorded: RecordedState | null,
  deployers: DeployerSet,
  baseDir: string,
  signal: AbortSignal = new AbortController().signal,
): Promise<Observation | null> {
  if (!recorded || Object.keys(recorded.deployments).length === 0) return null;
  const full = fullEnvironment(desired, recorded);
  const instances = [...new Set(Object.values(recorded.deployments).map((d) => d.deployer))].sort();
  ctx.emit({ type: 'refresh_started', deployers: instances });
  const merged: Observation = { revisions: {}, splits: {} };
  await Promise.all(
    instances.map(async (name) => {
      try {
        const deployer = await deployers.get(name);
        const view = deployerView(full, recorded, name, baseDir);
        const seen = await withTimeout(
          (s) => deployer.observe(view, { signal: s }),
          OBSERVE_TIMEOUT_MS,
          signal,
          `observe (${name})`,
        );
        Object.assign(merged.revisions, seen?.revisions ?? {});
        Object.assign(merged.splits, seen?.splits ?? {});
      } catch (e) {
        throw new BpError(
          'Provider',
          `refreshing state through deployer "${name}" failed: ${messageOf(e)}; fix it or plan with --refresh=false`,
          { cause: e },
        );
      }
    }),
  );
  return merged;
}

async function deployerSetFor(
  ctx: EngineContext,
  req: PlanRequest,
  recorded: RecordedState | null,
): Promise<DeployerSet & { resolvedConfigs: Environment['deployers'] }> {
  // Only deployer configs are needed to create deployers: a secret used by one artifact must
  // not stop `bp plan`, `bp destroy` or `bp sweep` from running where it cannot be read.
  const desired = req.desired;
  const deployers = await resolveAt(ctx, req, desired.deployers, ['deployers']);
  const full = fullEnvironment({ ...desired, deployers }, recorded);
  const set = new DeployerSet({
    environmentId: desired.environment_id,
    instances: full.deployers,
    baseDir: req.baseDir,
    stateDir: ctx.stateDir,
    logger: ctx.logger,
  });
  return Object.assign(set, { resolvedConfigs: deployers });
}

/**
 * Observes what runs and asks the stores for the secrets' current versions (both skipped
 * without refresh), then plans against them: `bp plan` and every applying operation alike.
 */
async function planAgainstLive(
  ctx: EngineContext,
  req: PlanRequest,
  recorded: RecordedState | null,
  deployers: DeployerSet,
  o: { secrets: boolean; signal?: AbortSignal },
): Promise<Plan> {
  const [observed, secretVersions] = await Promise.all([
    req.refresh === false ? null : observeAll(ctx, req.desired, recorded, deployers, req.baseDir, o.signal),
    o.secrets ? storeVersions(ctx, req, recorded, o.signal) : null,
  ]);
  return computePlan({
    desired: req.desired,
    recorded,
    now: ctx.clock(),
    observed,
    targets: req.targets,
    destroy: req.destroy,
    locate: req.locate,
    weightGranularityBps: await weightGranularities(deployers),
    secretVersions,
  });
}

/** Each deployer instance's `weightGranularityBps`, for the planner to show enforced splits. */
async function weightGranularities(deployers: DeployerSet): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of deployers.names()) {
    try {
      const g = (await deployers.plugin(name)).weightGranularityBps;
      if (typeof g === 'number' && Number.isInteger(g) && g > 1) out[name] = g;
    } catch {
      // A plugin that cannot load fails where it is used, with its own error.
    }
  }
  return out;
}

export async function planEnvironment(
  ctx: EngineContext,
  req: PlanRequest,
): Promise<{ plan: Plan; recorded: RecordedState | null }> {
  const recorded = await ctx.backend.load(req.desired.environment_id);
  const deployers = await deployerSetFor(ctx, req, recorded);
  try {
    const plan = await planAgainstLive(ctx, req, recorded, deployers, { secrets: true });
    return { plan, recorded };
  } finally {
    await deployers.close();
  }
}

export interface ApplyRequest extends PlanRequest {
  operation: 'apply' | 'destroy' | 'sweep';
  /** A saved plan: applied only if the state has not changed since it was made. */
  savedPlan?: Plan;
  lockTimeoutMs: number;
  parallelism: number;
  retry?: RetryPolicy;
  timeoutsMs?: Partial<Record<Verb, number>>;
  /** `--wait`: how long rollouts may wait through pauses. */
  rolloutWaitMs?: number;
  /** How rollout analyses measure (tests swap it; default src/rollout/analysis). */
  analysis?: AnalysisDeps;
  /** Asked once the plan is known and has changes; false cancels. */
  confirm: (plan: Plan) => Promise<boolean>;
  stop: AbortSignal;
  kill: AbortSignal;
  onLockTakeover?: (message: string) => void;
  /**
   * Narrows the freshly computed plan (never a saved one) to a closed part of it, under the
   * lock: `bp sweep` keeps only the drain/archive steps of TTL-expired revisions.
   */
  restrictPlan?: (plan: Plan) => Plan;
  /** Appends a history entry (who, plan digest, steps, outcome) when steps ran; see src/state/local.ts. */
  history?: HistoryOptions;
}

export interface HistoryOptions {
  actor: Actor;
  /** Entries kept (oldest dropped first). */
  limit: number;
  /** The operation as history names it when it differs from `operation` (promote, abort, rollback). */
  operation?: string;
  note?: string;
}

/** sha256 of a plan's steps: the same plan, the same digest (what `bp history` shows). */
export function planDigest(plan: Plan): string {
  return createHash('sha256').update(JSON.stringify(plan.steps)).digest('hex');
}

export interface ApplyOutcome {
  plan: Plan;
  /** Null when there was nothing to do or the operator declined. */
  result: ApplyResult | null;
  cancelled: boolean;
  state: RecordedState | null;
}

export async function applyEnvironment(ctx: EngineContext, req: ApplyRequest): Promise<ApplyOutcome> {
  const session = await lockEnvironment(ctx, req.desired.environment_id, req);
  try {
    return await applyLocked(ctx, req, session, session.state);
  } finally {
    await session.release();
  }
}

/** Takes the environment's state lock for `req.operation`, reporting a dead holder's lock taken over. */
export function lockEnvironment(
  ctx: EngineContext,
  envId: string,
  req: { operation: string; lockTimeoutMs: number; onLockTakeover?: (message: string) => void },
): Promise<StateSession> {
  return ctx.backend.lock(envId, {
    operation: req.operation,
    timeoutMs: req.lockTimeoutMs,
    onTakeover: (prev) =>
      req.onLockTakeover?.(
        `took over the lock of environment "${envId}" left by dead process ${prev.pid} on ${prev.host} ` +
          `(${prev.operation}, since ${prev.created})`,
      ),
  });
}

/**
 * `applyEnvironment` inside a lock the caller holds (and releases): `recorded` is the state as
 * the caller last wrote it in that session, so a read-modify-write such as `bp rollout promote`
 * runs as one locked operation.
 */
export async function applyLocked(
  ctx: EngineContext,
  req: ApplyRequest,
  session: StateSession,
  recorded: RecordedState | null,
): Promise<ApplyOutcome> {
  const envId = req.desired.environment_id;
  const deployers = await deployerSetFor(ctx, req, recorded);
  try {
    let plan: Plan;
    if (req.savedPlan) {
      assertFresh(req.savedPlan, recorded);
      plan = req.savedPlan;
    } else {
      // destroy and sweep need no app secret: they never ask the stores.
      plan = await planAgainstLive(ctx, req, recorded, deployers, {
        secrets: req.operation === 'apply',
        signal: req.kill,
      });
      if (req.restrictPlan) plan = req.restrictPlan(plan);
    }
    // A saved plan is a file anyone can edit: refuse one whose steps depend on steps it lacks.
    assertClosed(plan.steps);
    ctx.emit({ type: 'plan_ready', plan });
    if (!plan.changes) {
      if (recorded) await writeRuntimeConfig(ctx.stateDir, recorded, deployers, req.baseDir, req.desired);
      return { plan, result: null, cancelled: false, state: recorded };
    }
    if (!(await req.confirm(plan))) return { plan, result: null, cancelled: true, state: recorded };

    const base = recorded ?? emptyState(envId, randomUUID(), ctx.clock());
    await session.begin(base);
    const state: RecordedState = structuredClone(base);
    state.serial = base.serial + 1;
    // Apply resolves every reference; destroy and sweep only drain and archive, which need
    // no app secret (artifact env values stay unresolved references for them).
    let secretVersions: Record<string, Record<string, string>> | undefined;
    let desired: Environment;
    if (req.operation === 'apply') {
      const r = await resolveForApply(ctx, req, deployers);
      desired = r.value;
      secretVersions = revisionSecretVersions(req.desired, r.versions);
    } else {
      desired = { ...req.desired, deployers: deployers.resolvedConfigs };
    }
    const resolved = fullEnvironment(desired, recorded, req.destroy);
    const result = await executePlan({
      plan,
      desired: req.desired,
      resolved,
      session,
      state,
      deployers,
      baseDir: req.baseDir,
      lockId: session.lock.id,
      parallelism: req.parallelism,
      retry: req.retry,
      timeoutsMs: req.timeoutsMs,
      rolloutWaitMs: req.rolloutWaitMs,
      analysis: req.analysis,
      secretVersions,
      clock: ctx.clock,
      stop: req.stop,
      kill: req.kill,
      emit: ctx.emit,
    });
    state.updated_at = ctx.clock().toISOString();
    if (req.history) {
      const entry = historyEntry({
        state,
        operation: req.history.operation ?? req.operation,
        actor: req.history.actor,
        at: ctx.clock(),
        plan,
        planDigest: planDigest(plan),
        counts: result,
        note: req.history.note,
      });
      // Journaled like a step: a crash after this line keeps it (the journal is replayed).
      const m = { kind: 'history' as const, entry, limit: req.history.limit };
      await session.record([m]);
      applyMutation(state, m);
    }
    await session.checkpoint(state);
    try {
      await writeRuntimeConfig(ctx.stateDir, state, deployers, req.baseDir, req.desired);
    } catch (e) {
      ctx.emit({ type: 'warning', message: `could not write the runtime config: ${messageOf(e)}` });
    }
    return { plan, result, cancelled: false, state };
  } finally {
    await deployers.close();
  }
}

function assertFresh(plan: Plan, recorded: RecordedState | null): void {
  const lineage = recorded?.lineage ?? null;
  const serial = recorded?.serial ?? 0;
  if (plan.prior.lineage !== lineage || plan.prior.serial !== serial) {
    throw new StaleStateError(
      `saved plan is stale: it was made against state ${plan.prior.lineage ?? '(none)'} serial ${plan.prior.serial}, ` +
        `but the state is now ${lineage ?? '(none)'} serial ${serial}; run bp plan again`,
    );
  }
}
