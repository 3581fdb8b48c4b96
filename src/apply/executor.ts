/**
 * Runs a plan: each step's intent is recorded before its verb runs and its outcome after,
 * durably, before any dependent step starts (Pulumi's pending operations). Steps run through
 * the walker with bounded parallelism; retryable provider errors are retried with backoff.
 */
import type { Deployer, DeployerDeployment, DeployerEnvironment } from '../model/deployer.js';
import type { Environment, SplitEntry } from '../model/environment.js';
import { AbortedError, errorCode } from '../model/errors.js';
import type { Plan, PlanStep, Verb } from '../model/plan.js';
import { applyMutation, type Mutation, type RecordedState } from '../model/state.js';
import { mutationsOnFailure, mutationsOnStart, mutationsOnSuccess } from '../plan/outcome.js';
import type { StateSession } from '../state/backend.js';
import { deployerView } from './deployer-env.js';
import type { DeployerSet } from './deployer-set.js';
import type { ApplyResult, EventSink, StepOutcome } from './events.js';
import { DEFAULT_RETRY, withRetries, withTimeout, type RetryPolicy } from './retry.js';
import { walk } from './walker.js';

export const DEFAULT_VERB_TIMEOUT_MS: Record<Verb, number> = {
  stage: 10 * 60_000,
  warm: 15 * 60_000,
  apply_traffic_split: 5 * 60_000,
  drain: 10 * 60_000,
  archive: 10 * 60_000,
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
}

export async function executePlan(o: ExecuteOptions): Promise<ApplyResult> {
  const outcomes = new Map<string, StepOutcome>();
  const views = new ViewCache(o);
  const record = async (mutations: Mutation[]) => {
    if (mutations.length === 0) return;
    await o.session.record(mutations);
    for (const m of mutations) {
      applyMutation(o.state, m);
      views.onMutation(m);
    }
  };
  const outcomeCtx = () => ({ desired: o.desired, state: o.state, now: o.clock(), lockId: o.lockId });

  const runStep = async (step: PlanStep): Promise<boolean> => {
    const started = Date.now();
    try {
      // Inside the try: a state write that fails as the step starts is a failed step, never silence.
      await record(mutationsOnStart(step, outcomeCtx()));
      o.emit({ type: 'step_started', step, at: started });
      const deployment = o.resolved.deployments.find((d) => d.deployment_id === step.deployment_id);
      if (!deployment) throw new Error(`deployment "${step.deployment_id}" is unknown to this apply`);
      const deployer = await o.deployers.get(deployment.deployer);
      const result = await withRetries(
        () =>
          withTimeout(
            (signal) => invoke(deployer, step, views.forStep(deployment.deployer, step), signal),
            timeoutFor(o, step),
            o.kill,
            step.id,
          ),
        o.retry ?? DEFAULT_RETRY,
        o.kill,
        (attempt, error, delayMs) =>
          o.emit({ type: 'step_retrying', step, attempt, error: messageOf(error), delayMs }),
      );
      await record(mutationsOnSuccess(step, outcomeCtx(), result));
      outcomes.set(step.id, { step_id: step.id, status: 'succeeded' });
      o.emit({ type: 'step_succeeded', step, durationMs: Date.now() - started });
      return true;
    } catch (e) {
      const error = messageOf(e);
      const code = errorCode(e) ?? 'Provider';
      try {
        await record(mutationsOnFailure(step, outcomeCtx(), { message: error }));
      } catch (recordError) {
        o.emit({ type: 'warning', message: `could not record the failure of ${step.id}: ${messageOf(recordError)}` });
      }
      outcomes.set(step.id, { step_id: step.id, status: 'failed', error, code });
      o.emit({ type: 'step_failed', step, error, code, durationMs: Date.now() - started });
      return false;
    }
  };

  const walked = await walk(o.plan.steps, runStep, {
    parallelism: o.parallelism,
    stop: o.stop,
    onSkip: (step, cause) => o.emit({ type: 'step_skipped', step, because: cause }),
  });

  const list: StepOutcome[] = [];
  for (const step of o.plan.steps) {
    const s = walked.status.get(step.id);
    if (s === 'skipped') {
      list.push({ step_id: step.id, status: 'skipped', because: walked.skippedBecause.get(step.id) });
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
    interrupted: o.stop.aborted,
  };
}

/**
 * Each deployer instance's view is built once per apply and kept current revision by revision
 * as outcomes are recorded: rebuilding it per step made apply quadratic in environment size.
 */
class ViewCache {
  private readonly views = new Map<string, { env: DeployerEnvironment; index: Map<string, { d: DeployerDeployment; i: number }> }>();

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
    const { env } = this.get(instance);
    if (step.verb !== 'apply_traffic_split' || !step.split) return env;
    const after = step.split.after;
    return {
      ...env,
      deployments: env.deployments.map((d) => (d.deployment_id === step.deployment_id ? { ...d, traffic: after } : d)),
    };
  }

  onMutation(m: Mutation): void {
    if (m.kind !== 'revision') return;
    for (const { index } of this.views.values()) {
      const at = index.get(m.revision.revision_id);
      if (!at) continue;
      const r = m.revision;
      at.d.revisions[at.i] = { ...at.d.revisions[at.i], lifecycle: r.lifecycle, outputs: r.outputs ?? {}, endpoint: r.endpoint ?? null };
    }
  }
}

function timeoutFor(o: ExecuteOptions, step: PlanStep): number {
  const base = o.timeoutsMs?.[step.verb] ?? DEFAULT_VERB_TIMEOUT_MS[step.verb];
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
  signal: AbortSignal,
): Promise<{ outputs?: Record<string, unknown>; endpoint?: string; applied_entries?: SplitEntry[] }> {
  if (signal.aborted) throw new AbortedError(`${step.id} was interrupted`);
  const opts = { signal };
  const rev = step.revision_id ?? '';
  switch (step.verb) {
    case 'stage':
      return (await deployer.stageRevision(env, rev, opts)) ?? {};
    case 'warm':
      return (await deployer.warmRevision(env, rev, opts)) ?? {};
    case 'drain':
      await deployer.drainRevision(env, rev, opts);
      return {};
    case 'archive':
      await deployer.archiveRevision(env, rev, opts);
      return {};
    case 'apply_traffic_split': {
      const out = await deployer.applyTrafficSplit(env, step.deployment_id, opts);
      return { applied_entries: out?.applied_entries };
    }
  }
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}
