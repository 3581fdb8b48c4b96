/**
 * Runs a plan: each step's intent is recorded before its verb runs and its outcome after,
 * durably, before any dependent step starts (Pulumi's pending operations). Steps run through
 * the walker with bounded parallelism; retryable provider errors are retried with backoff.
 */
import type { Deployer, DeployerDeployment, DeployerEnvironment, VerbOptions } from '../model/deployer.js';
import type { Environment, SplitEntry } from '../model/environment.js';
import { AbortedError, errorCode, messageOf } from '../model/errors.js';
import type { Plan, PlanStep, Verb } from '../model/plan.js';
import { applyMutation, type Mutation, type RecordedState } from '../model/state.js';
import { mutationsOnFailure, mutationsOnStart, mutationsOnSuccess } from '../plan/outcome.js';
import { archiveWithRouting, ReleaseRun } from './archive.js';
import type { StateSession } from '../state/backend.js';
import { deployerView } from './deployer-env.js';
import type { DeployerSet } from './deployer-set.js';
import { type ApplyResult, type EventSink, progressReporter, type StepOutcome } from './events.js';
import { raceFaults } from '../deployers/plugin-guard.js';
import { checkSplitResult, checkStageResult, checkWarmResult } from './plugin-results.js';
import { DEFAULT_RETRY, sleep, withRetries, withTimeout, type RetryPolicy } from './retry.js';
import { rollBackFailedWarm, runRollout, type AnalysisDeps, type RolloutRunContext } from './rollout-runner.js';
import { intervalMs } from '../rollout/analysis/verdict.js';
import { walk, type VertexControl } from './walker.js';

/** Per-attempt timeout of each verb in an apply (a drain also gets its revision's drain_seconds). */
export const VERB_TIMEOUT_MS: Record<Verb, number> = {
  stage: 10 * 60_000,
  warm: 15 * 60_000,
  apply_traffic_split: 5 * 60_000,
  drain: 10 * 60_000,
  archive: 10 * 60_000,
  update: 60_000,
};

export interface ExecuteOptions {
  plan: Plan;
  /** The normalized desired environment (references unresolved): what gets recorded. */
  desired: Environment;
  /** `fullEnvironment` of the desired one with references resolved: what deployers see. */
  resolved: Environment;
  session: StateSession;
  /** Current state after `session.begin`; updated in place as steps are recorded. */
  state: RecordedState;
  deployers: DeployerSet;
  baseDir: string;
  lockId: string;
  parallelism: number;
  retry?: RetryPolicy;
  /** Overrides per verb; a drain also gets its revision's drain_seconds on top. */
  timeoutsMs?: Partial<Record<Verb, number>>;
  clock: () => Date;
  /** Aborted on the first interrupt: no new step starts. */
  stop: AbortSignal;
  /** Aborted on the second interrupt: running verbs are told to stop at once. */
  kill: AbortSignal;
  emit: EventSink;
  /** `--wait`: how long rollouts may wait through pauses (from the start of the apply); 0 or absent: not at all. */
  rolloutWaitMs?: number;
  /** How rollout analyses measure (default: src/rollout/analysis). */
  analysis?: AnalysisDeps;
  /** Per revision: store version id of each secret reference its env was resolved with. */
  secretVersions?: Record<string, Record<string, string>>;
}

export async function executePlan(o: ExecuteOptions): Promise<ApplyResult> {
  // On the engine's clock, as pause ends are (an injected BP_NOW clock must not shift one against the other).
  const waitUntil = o.rolloutWaitMs ? o.clock().getTime() + o.rolloutWaitMs : null;
  const outcomes = new Map<string, StepOutcome>();
  const views = new ViewCache(o);
  const releases = new ReleaseRun();
  const record = async (mutations: Mutation[]) => {
    if (mutations.length === 0) return;
    await o.session.record(mutations);
    for (const m of mutations) {
      applyMutation(o.state, m);
      views.onMutation(m);
    }
  };
  // A scan of every deployment per step cost O(deployments) each on large plans.
  const deploymentsById = new Map(o.resolved.deployments.map((d) => [d.deployment_id, d]));
  const outcomeCtx = () => ({ desired: o.desired, state: o.state, now: o.clock(), lockId: o.lockId });

  const runStep = async (step: PlanStep, control: VertexControl): Promise<boolean> => {
    const started = Date.now();
    try {
      // Inside the try: a state write that fails as the step starts is a failed step, never silence.
      await record(mutationsOnStart(step, outcomeCtx()));
      o.emit({ type: 'step_started', step, at: started });
      if (step.verb === 'update') {
        // Settings bp reads itself: recording them is the whole step, no deployer is loaded.
        await record(mutationsOnSuccess(step, outcomeCtx(), {}));
        outcomes.set(step.id, { step_id: step.id, status: 'succeeded' });
        o.emit({ type: 'step_succeeded', step, durationMs: Date.now() - started });
        return true;
      }
      const deployment = deploymentsById.get(step.deployment_id);
      if (!deployment) throw new Error(`deployment "${step.deployment_id}" is unknown to this apply`);
      const deployer = await o.deployers.get(deployment.deployer);
      if (step.rollout) {
        const rolled = await runRollout(
          rolloutContext(o, step, deployment.deployer, deployer, views, record, outcomeCtx, waitUntil),
        );
        if (rolled.kind === 'held') {
          await record([{ kind: 'pending_done', step_id: step.id }]);
          outcomes.set(step.id, { step_id: step.id, status: 'held', because: rolled.message });
          o.emit({ type: 'step_held', step, message: rolled.message, durationMs: Date.now() - started });
          return false;
        }
        if (rolled.kind === 'failed') throw new RolloutFailed(rolled.message);
        await record(mutationsOnSuccess(step, outcomeCtx(), { applied_entries: step.split?.after }));
        outcomes.set(step.id, { step_id: step.id, status: 'succeeded' });
        o.emit({ type: 'step_succeeded', step, durationMs: Date.now() - started });
        return true;
      }
      const result = await withRetries(
        () =>
          withTimeout(
            (signal) =>
              raceFaults(() =>
                invoke(
                  deployer,
                  step,
                  views.forStep(deployment.deployer, step),
                  { signal, progress: progressReporter(step, o.emit) },
                  releases,
                ),
              ),
            timeoutFor(o, step),
            o.kill,
            step.id,
          ),
        o.retry ?? DEFAULT_RETRY,
        o.kill,
        (attempt, error, delayMs) => o.emit({ type: 'step_retrying', step, attempt, error: messageOf(error), delayMs }),
      );
      // The verb is done: its slot may start an independent step now, whose intent then shares
      // this outcome's fsync (half the fsyncs per step). Dependents still wait for this record.
      control.releaseSlot();
      const versions = step.revision_id !== null ? o.secretVersions?.[step.revision_id] : undefined;
      await record(
        mutationsOnSuccess(step, outcomeCtx(), versions ? { ...result, secret_versions: versions } : result),
      );
      outcomes.set(step.id, { step_id: step.id, status: 'succeeded' });
      o.emit({ type: 'step_succeeded', step, durationMs: Date.now() - started });
      return true;
    } catch (e) {
      const error = messageOf(e);
      const code = e instanceof RolloutFailed ? 'RolloutFailed' : (errorCode(e) ?? 'Provider');
      try {
        await record(mutationsOnFailure(step, outcomeCtx(), { message: error }));
      } catch (recordError) {
        o.emit({ type: 'warning', message: `could not record the failure of ${step.id}: ${messageOf(recordError)}` });
      }
      outcomes.set(step.id, { step_id: step.id, status: 'failed', error, code });
      o.emit({ type: 'step_failed', step, error, code, durationMs: Date.now() - started });
      if (step.verb === 'warm') await rollBackIfCanary(step, error);
      return false;
    }
  };

  /** A failed warm of a rollout's canary, with `on_failure: rollback`, rolls the rollout back. */
  const rollBackIfCanary = async (warm: PlanStep, error: string) => {
    const split = o.plan.steps.find((s) => s.id === `split:${warm.deployment_id}` && s.rollout);
    if (!split || split.rollout!.canary !== warm.revision_id || split.rollout!.on_failure !== 'rollback') return;
    try {
      const deployment = deploymentsById.get(warm.deployment_id)!;
      const deployer = await o.deployers.get(deployment.deployer);
      await rollBackFailedWarm(
        rolloutContext(o, split, deployment.deployer, deployer, views, record, outcomeCtx, waitUntil),
        error,
      );
    } catch (e) {
      o.emit({ type: 'warning', message: `could not roll back the rollout of ${warm.revision_id}: ${messageOf(e)}` });
    }
  };

  // A held rollout step is not a failure: what depends on it waits for a later apply.
  const holding = (id: string) => outcomes.get(id)?.status === 'held';
  const walked = await walk(o.plan.steps, runStep, {
    parallelism: o.parallelism,
    stop: o.stop,
    onSkip: (step, cause) => {
      if (holding(cause)) o.emit({ type: 'step_waiting', step, on: cause });
      else o.emit({ type: 'step_skipped', step, because: cause });
    },
  });

  const list: StepOutcome[] = [];
  for (const step of o.plan.steps) {
    const s = walked.status.get(step.id);
    if (s === 'skipped') {
      const because = walked.skippedBecause.get(step.id)!;
      list.push({ step_id: step.id, status: holding(because) ? 'waiting' : 'skipped', because });
    } else if (s === 'not_started' || !outcomes.has(step.id)) {
      list.push({ step_id: step.id, status: 'not_started' });
    } else {
      list.push(outcomes.get(step.id)!);
    }
  }
  const count = (st: StepOutcome['status']) => list.filter((x) => x.status === st).length;
  return {
    outcomes: list,
    succeeded: count('succeeded'),
    failed: count('failed'),
    skipped: count('skipped'),
    notStarted: count('not_started'),
    held: count('held'),
    waiting: count('waiting'),
    interrupted: o.stop.aborted,
  };
}

/**
 * Each deployer instance's view is built once per apply and kept current revision by revision
 * as outcomes are recorded: rebuilding it per step made apply quadratic in environment size.
 */
class ViewCache {
  private readonly views = new Map<
    string,
    { env: DeployerEnvironment; index: Map<string, { d: DeployerDeployment; i: number }> }
  >();

  constructor(private readonly o: ExecuteOptions) {}

  private get(instance: string) {
    let v = this.views.get(instance);
    if (!v) {
      const env = deployerView(this.o.resolved, this.o.state, instance, this.o.baseDir);
      const index = new Map<string, { d: DeployerDeployment; i: number }>();
      for (const d of env.deployments) d.revisions.forEach((r, i) => index.set(r.revision_id, { d, i }));
      v = { env, index };
      this.views.set(instance, v);
    }
    return v;
  }

  forStep(instance: string, step: PlanStep): DeployerEnvironment {
    if (step.verb !== 'apply_traffic_split' || !step.split) return this.get(instance).env;
    return this.withTraffic(instance, step.deployment_id, step.split.after);
  }

  /** The view with one deployment's traffic set to `entries` (as the view has it when undefined). */
  withTraffic(instance: string, deploymentId: string, entries?: SplitEntry[]): DeployerEnvironment {
    const { env } = this.get(instance);
    if (!entries) return env;
    return {
      ...env,
      deployments: env.deployments.map((d) => (d.deployment_id === deploymentId ? { ...d, traffic: entries } : d)),
    };
  }

  onMutation(m: Mutation): void {
    if (m.kind !== 'revision') return;
    for (const { index } of this.views.values()) {
      const at = index.get(m.revision.revision_id);
      if (!at) continue;
      const r = m.revision;
      at.d.revisions[at.i] = {
        ...at.d.revisions[at.i],
        lifecycle: r.lifecycle,
        outputs: r.outputs ?? {},
        endpoint: r.endpoint ?? null,
      };
    }
  }
}

/** A rollout that ended in rollback or halt: the step fails with the rollout's own sentence. */
class RolloutFailed extends Error {}

function rolloutContext(
  o: ExecuteOptions,
  step: PlanStep,
  instance: string,
  deployer: Deployer,
  views: ViewCache,
  record: (m: Mutation[]) => Promise<void>,
  outcomeCtx: RolloutRunContext['outcomeCtx'],
  waitUntil: number | null,
): RolloutRunContext {
  return {
    step,
    environmentId: o.desired.environment_id,
    deployer,
    view: (entries) => views.withTraffic(instance, step.deployment_id, entries),
    state: o.state,
    record,
    outcomeCtx,
    clock: o.clock,
    stop: o.stop,
    kill: o.kill,
    waitUntil,
    call: (what, fn) =>
      withRetries(
        () => withTimeout(fn, timeoutFor(o, step), o.kill, what),
        o.retry ?? DEFAULT_RETRY,
        o.kill,
        (attempt, error, delayMs) => o.emit({ type: 'step_retrying', step, attempt, error: messageOf(error), delayMs }),
      ),
    analysis: o.analysis ?? defaultAnalysis,
    sleep,
    emit: o.emit,
  };
}

/** The real analysis module; its I/O half is loaded on first use (only rollouts with analyses need it). */
const defaultAnalysis: AnalysisDeps = {
  async openWindow(analysis, target, signal) {
    const m = await import('../rollout/analysis/index.js');
    return m.openWindow(analysis, target, signal);
  },
  intervalMs,
};

function timeoutFor(o: ExecuteOptions, step: PlanStep): number {
  const base = o.timeoutsMs?.[step.verb] ?? VERB_TIMEOUT_MS[step.verb];
  if (step.verb === 'drain' && o.timeoutsMs?.drain === undefined) {
    const rev = o.resolved.deployments
      .find((d) => d.deployment_id === step.deployment_id)
      ?.revisions.find((r) => r.revision_id === step.revision_id);
    return base + (rev?.drain_seconds ?? 0) * 1000;
  }
  return base;
}

async function invoke(
  deployer: Deployer,
  step: PlanStep,
  env: DeployerEnvironment,
  opts: VerbOptions,
  releases: ReleaseRun,
): Promise<{ outputs?: Record<string, unknown>; endpoint?: string; applied_entries?: SplitEntry[] }> {
  if (opts.signal.aborted) throw new AbortedError(`${step.id} was interrupted`);
  const rev = step.revision_id ?? '';
  const what = `the deployer's ${step.verb === 'apply_traffic_split' ? 'applyTrafficSplit' : step.verb} of ${step.id}`;
  switch (step.verb) {
    case 'stage':
      releases.revived(step.deployment_id, rev);
      return checkStageResult(what, await deployer.stageRevision(env, rev, opts));
    case 'warm':
      return checkWarmResult(what, await deployer.warmRevision(env, rev, opts));
    case 'drain':
      await deployer.drainRevision(env, rev, opts);
      return {};
    case 'archive':
      await archiveWithRouting(deployer, env, step.deployment_id, rev, opts, releases);
      return {};
    case 'apply_traffic_split': {
      const out = await deployer.applyTrafficSplit(env, step.deployment_id, opts);
      const requested =
        env.deployments.find((d) => d.deployment_id === step.deployment_id)?.traffic ?? step.split?.after ?? [];
      return { applied_entries: checkSplitResult(what, out, step.deployment_id, requested).applied_entries };
    }
    case 'update':
      return {}; // recorded in runStep before any deployer is loaded
  }
}
