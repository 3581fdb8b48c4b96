/**
 * The TTL sweeper (`bp sweep`): the engine's apply, narrowed to the drain and archive steps
 * of revisions whose `ttl` has passed and that carry no traffic. The planner already decides
 * expiry (src/plan/targets.ts); this module only selects from its plan, so a sweep can never
 * do anything a full apply would not, and never touches a split or a revision with traffic.
 */
import type { ExpiredRevision, Plan, PlanStep } from '../model/plan.js';
import { summarize } from '../model/plan.js';
import { applyEnvironment, planEnvironment, type ApplyRequest, type EngineContext } from './engine.js';
import type { ApplyResult } from './events.js';
import { sleep, type RetryPolicy } from './retry.js';

/** Attempts per drain/archive step of an expired revision, with exponential backoff between them. */
export const SWEEP_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000 };

export interface RevisionRef {
  deployment_id: string;
  revision_id: string;
}

export interface SweepCandidates {
  /** Expired, no traffic, and the plan archives it: these are swept. */
  sweepable: ExpiredRevision[];
  /** Expired but still weighted in the recorded or declared split: reported, never archived. */
  keptWithTraffic: ExpiredRevision[];
  /** Expired, no recorded traffic, but the provider's split drifted: left for `bp apply`. */
  heldByDrift: ExpiredRevision[];
}

const key = (deploymentId: string, revisionId: string) => `${deploymentId}/${revisionId}`;
const isTeardown = (s: PlanStep) => s.verb === 'drain' || s.verb === 'archive';

export function sweepCandidates(plan: Plan): SweepCandidates {
  const archiving = new Set(
    plan.steps
      .filter((s) => s.verb === 'archive' && s.revision_id !== null)
      .map((s) => key(s.deployment_id, s.revision_id!)),
  );
  // A drifted split means the provider may route to a revision the recorded split gives 0;
  // archiving it then could cut live traffic, so only a full apply (which re-enforces the
  // split first) may take it down.
  const drifted = new Set(plan.drift.filter((d) => d.kind === 'split_changed').map((d) => d.deployment_id));
  const out: SweepCandidates = { sweepable: [], keptWithTraffic: [], heldByDrift: [] };
  for (const x of plan.expired) {
    if (x.carries_traffic) out.keptWithTraffic.push(x);
    else if (drifted.has(x.deployment_id)) out.heldByDrift.push(x);
    else if (archiving.has(key(x.deployment_id, x.revision_id))) out.sweepable.push(x);
  }
  return out;
}

/**
 * The plan narrowed to the drain/archive steps of sweepable revisions, closed under
 * dependencies: a step whose dependency was left out is left out too (the walker would
 * otherwise run it as if that dependency had succeeded).
 */
export function ttlSweepPlan(plan: Plan): Plan {
  const sweepable = new Set(sweepCandidates(plan).sweepable.map((x) => key(x.deployment_id, x.revision_id)));
  let steps = plan.steps.filter(
    (s) => isTeardown(s) && s.revision_id !== null && sweepable.has(key(s.deployment_id, s.revision_id)),
  );
  for (let changed = true; changed;) {
    const kept = new Set(steps.map((s) => s.id));
    const next = steps.filter((s) => s.depends_on.every((d) => kept.has(d)));
    changed = next.length !== steps.length;
    steps = next;
  }
  return { ...plan, steps, changes: steps.length > 0, summary: summarize(steps) };
}

export interface SweepRequest extends Pick<
  ApplyRequest,
  | 'desired'
  | 'baseDir'
  | 'targets'
  | 'refresh'
  | 'lockTimeoutMs'
  | 'parallelism'
  | 'timeoutsMs'
  | 'stop'
  | 'kill'
  | 'onLockTakeover'
  | 'history'
> {
  retry?: RetryPolicy;
  /** Called with the narrowed plan right before its steps run (notifications hook here). */
  onStart?: (plan: Plan) => void;
}

export interface SweepOutcome {
  /** The narrowed plan that ran, or the pre-check's when there was nothing to sweep. */
  plan: Plan;
  result: ApplyResult | null;
  /** Whether this sweep took the state lock (only when something was to be swept). */
  locked: boolean;
  archived: RevisionRef[];
  failed: Array<RevisionRef & { step_id: string; error: string }>;
  keptWithTraffic: ExpiredRevision[];
  heldByDrift: ExpiredRevision[];
}

/**
 * One sweep. A lock-free pre-check (recorded state and the pure planner, no refresh) finds
 * out whether anything expired; only then is the lock taken, and the engine re-plans under
 * it (with refresh) before running the narrowed plan, so a revision that gained traffic in
 * between is not touched.
 */
export async function sweepEnvironment(ctx: EngineContext, req: SweepRequest): Promise<SweepOutcome> {
  const quiet: EngineContext = { ...ctx, emit: () => {} };
  const pre = await planEnvironment(quiet, {
    desired: req.desired,
    baseDir: req.baseDir,
    targets: req.targets,
    refresh: false,
  });
  const preCandidates = sweepCandidates(pre.plan);
  if (preCandidates.sweepable.length === 0) {
    return {
      plan: ttlSweepPlan(pre.plan),
      result: null,
      locked: false,
      archived: [],
      failed: [],
      keptWithTraffic: preCandidates.keptWithTraffic,
      heldByDrift: preCandidates.heldByDrift,
    };
  }
  let full: Plan | null = null;
  const outcome = await applyEnvironment(ctx, {
    operation: 'sweep',
    desired: req.desired,
    baseDir: req.baseDir,
    targets: req.targets,
    refresh: req.refresh,
    lockTimeoutMs: req.lockTimeoutMs,
    parallelism: req.parallelism,
    retry: req.retry ?? SWEEP_RETRY,
    timeoutsMs: req.timeoutsMs,
    stop: req.stop,
    kill: req.kill,
    onLockTakeover: req.onLockTakeover,
    history: req.history,
    restrictPlan: (plan) => {
      full = plan;
      return ttlSweepPlan(plan);
    },
    confirm: async (plan) => {
      req.onStart?.(plan);
      return true;
    },
  });
  const candidates = sweepCandidates(full ?? pre.plan);
  return {
    plan: outcome.plan,
    result: outcome.result,
    locked: true,
    ...stepOutcomes(outcome.plan, outcome.result),
    keptWithTraffic: candidates.keptWithTraffic,
    heldByDrift: candidates.heldByDrift,
  };
}

function stepOutcomes(plan: Plan, result: ApplyResult | null): Pick<SweepOutcome, 'archived' | 'failed'> {
  const archived: RevisionRef[] = [];
  const failed: SweepOutcome['failed'] = [];
  if (!result) return { archived, failed };
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  for (const o of result.outcomes) {
    const step = byId.get(o.step_id);
    if (!step || step.revision_id === null) continue;
    const ref = { deployment_id: step.deployment_id, revision_id: step.revision_id };
    if (o.status === 'succeeded') {
      if (step.verb === 'archive') archived.push(ref);
      continue;
    }
    const k = key(ref.deployment_id, ref.revision_id);
    if (seen.has(k)) continue; // one line per revision: its first step that did not finish
    seen.add(k);
    const error =
      o.status === 'failed'
        ? (o.error ?? 'failed')
        : o.status === 'skipped'
          ? `skipped because ${o.because} failed`
          : 'not started (interrupted)';
    failed.push({ ...ref, step_id: o.step_id, error });
  }
  return { archived, failed };
}

/**
 * `bp sweep --watch`: runs `pass` every `intervalMs` (measured from the end of one pass to
 * the start of the next, so passes never overlap) until `stop` aborts. A pass that throws is
 * reported through `onError` and the loop goes on: a held lock, an unreachable provider or a
 * half-edited env file must not end a long-running sweeper.
 */
export async function repeatUntilStopped(o: {
  intervalMs: number;
  stop: AbortSignal;
  pass: () => Promise<void>;
  onError: (error: unknown) => void;
}): Promise<void> {
  while (!o.stop.aborted) {
    try {
      await o.pass();
    } catch (e) {
      o.onError(e);
    }
    if (o.stop.aborted) break;
    try {
      await sleep(o.intervalMs, o.stop);
    } catch {
      break; // stopped while sleeping
    }
  }
}
