/**
 * Progressive rollouts, the pure part: when a declared split walks rollout steps instead of
 * jumping, the intermediate splits, and the next thing a rollout in progress does. The
 * executor (src/apply/rollout-runner.ts) carries the actions out and records progress.
 */
import {
  FULL_WEIGHT_BPS,
  parseDurationMs,
  type Analysis,
  type Deployment,
  type Rollout,
  type RolloutStep,
  type SplitEntry,
} from '../model/environment.js';
import type { PlannedRollout, RolloutNotice } from '../model/plan.js';
import { ACTIVE_ROLLOUT_STATUSES, type RecordedDeployment, type RolloutProgress } from '../model/state.js';
import { largestRemainder } from '../model/weights.js';
import { copySplit, sameRouting, weightOf } from './splits.js';

/**
 * The revision a split change moves traffic to, when it is a canary move: the enforced split
 * sends traffic elsewhere, and exactly one revision gains weight. Null otherwise (a first
 * deployment, a pure re-weighting among several gainers): those jump straight to the split.
 */
export function canaryOf(before: readonly SplitEntry[], after: readonly SplitEntry[]): string | null {
  if (before.reduce((s, e) => s + e.weight_bps, 0) !== FULL_WEIGHT_BPS) return null;
  const gainers = [...new Set(after.map((e) => e.revision_id))].filter(
    (id) => weightOf(after, id) > weightOf(before, id),
  );
  if (gainers.length !== 1) return null;
  return weightOf(before, gainers[0]) < FULL_WEIGHT_BPS ? gainers[0] : null;
}

/**
 * The split with `weight` bps on the canary and the rest shared by the other revisions of
 * `stable` in their stable proportions (largest remainder, ties to the earlier entry), so
 * the weights sum to exactly 10000.
 */
export function intermediateSplit(stable: readonly SplitEntry[], canary: string, weight: number): SplitEntry[] {
  const others = stable.filter((e) => e.revision_id !== canary && e.weight_bps > 0);
  const othersTotal = others.reduce((s, e) => s + e.weight_bps, 0);
  const rest = FULL_WEIGHT_BPS - weight;
  if (othersTotal === 0) return [{ revision_id: canary, weight_bps: FULL_WEIGHT_BPS }];
  const shares = largestRemainder(
    others.map((e) => e.weight_bps),
    rest,
  );
  const out = others.map((e, i) => ({ revision_id: e.revision_id, weight_bps: shares[i] }));
  out.push({ revision_id: canary, weight_bps: weight });
  return out;
}

/** What a rollout in progress does next. */
export type RolloutAction =
  | { kind: 'weight'; step: number; entries: SplitEntry[]; weight_bps: number }
  | { kind: 'skip'; step: number; why: string }
  | { kind: 'pause'; step: number; until: Date | null }
  | { kind: 'analysis'; step: number; analysis: Analysis }
  | { kind: 'final'; entries: SplitEntry[] };

/**
 * The next action of `p` given the canary's weight now. Weight steps at or below the current
 * weight are skipped (steps only grow the canary); the first weight step at or above the
 * target's weight, and everything after it, gives way to the declared split.
 */
export function nextAction(p: RolloutProgress, currentCanaryWeight: number): RolloutAction {
  const targetWeight = weightOf(p.target, p.canary);
  if (p.promoted === 'full' || p.step >= p.steps.length) return { kind: 'final', entries: copySplit(p.target) };
  const s = p.steps[p.step];
  if ('weight_bps' in s) {
    if (s.weight_bps >= targetWeight) return { kind: 'final', entries: copySplit(p.target) };
    if (s.weight_bps <= currentCanaryWeight) {
      return { kind: 'skip', step: p.step, why: `${p.canary} already has ${formatBps(currentCanaryWeight)}` };
    }
    return {
      kind: 'weight',
      step: p.step,
      weight_bps: s.weight_bps,
      entries: intermediateSplit(p.stable, p.canary, s.weight_bps),
    };
  }
  if ('pause' in s) {
    const ms = s.pause.duration !== undefined ? parseDurationMs(s.pause.duration) : null;
    const until = ms === null ? null : new Date(Date.parse(p.step_started_at) + ms);
    return { kind: 'pause', step: p.step, until };
  }
  return { kind: 'analysis', step: p.step, analysis: s.analysis };
}

/** True when walking `steps` from `fromWeight` to `toWeight` does anything besides the final split. */
export function hasIntermediateWork(steps: readonly RolloutStep[], fromWeight: number, toWeight: number): boolean {
  for (const s of steps) {
    if ('weight_bps' in s) {
      if (s.weight_bps >= toWeight) return false;
      if (s.weight_bps > fromWeight) return true;
    } else {
      return true;
    }
  }
  return false;
}

export function newProgress(planned: PlannedRollout, target: readonly SplitEntry[], now: Date): RolloutProgress {
  const at = now.toISOString();
  return {
    canary: planned.canary,
    stable: copySplit(planned.stable),
    target: copySplit(target),
    steps: structuredClone(planned.steps),
    on_failure: planned.on_failure,
    step: 0,
    step_started_at: at,
    pause_until: null,
    measurements: [],
    promoted: null,
    status: 'progressing',
    message: `rolling out ${planned.canary}`,
    started_at: at,
    updated_at: at,
  };
}

/** The recorded rollout the split step continues, or a new one when it begins (or the record is stale). */
export function resumeOrBegin(
  planned: PlannedRollout,
  recorded: RolloutProgress | null,
  target: readonly SplitEntry[],
  now: Date,
): RolloutProgress {
  return !planned.begins && isActive(recorded) && sameRouting(recorded.target, target)
    ? recorded
    : newProgress(planned, target, now);
}

export function isActive(p: RolloutProgress | null | undefined): p is RolloutProgress {
  return p != null && ACTIVE_ROLLOUT_STATUSES.includes(p.status);
}

/** How the planner treats one deployment's traffic given its rollout (see `decideRollout`). */
export interface RolloutDecision {
  /** The split this plan moves to (the file's, or the stable one while the file diverges). */
  after: SplitEntry[];
  /**
   * Desired lifecycles that override the file while it diverges: the canary of a rolled-back
   * rollout stays inactive, and the stable revisions it returned to stay ready.
   */
  hold: Record<string, 'ready' | 'inactive'>;
  /** Set when the split step walks rollout steps. */
  planned: PlannedRollout | null;
  notice: RolloutNotice | null;
}

/**
 * Decides, for one deployment, whether its split step begins or continues a rollout, or
 * whether the file asks again for a split that a rollout rolled back (then the deployment
 * stays on the stable split, canary inactive, until the file changes: like a Terraform
 * plan that will not re-apply what an operator explicitly aborted).
 */
export function decideRollout(
  desired: Deployment | null,
  recorded: RecordedDeployment | null,
  destroy: boolean,
  now: Date = new Date(0),
): RolloutDecision {
  const declared = desired?.traffic ?? [];
  const plain: RolloutDecision = { after: copySplit(declared), hold: {}, planned: null, notice: null };
  if (destroy || desired === null) return plain;
  const before = recorded?.split ?? [];
  const p = recorded?.rollout ?? null;

  if (p && (p.status === 'rolled_back' || p.status === 'aborted') && sameRouting(p.target, declared)) {
    const hold: Record<string, 'ready' | 'inactive'> = {};
    for (const e of p.stable) if (e.weight_bps > 0) hold[e.revision_id] = 'ready';
    hold[p.canary] = 'inactive';
    return {
      after: copySplit(p.stable),
      hold,
      planned: null,
      notice: notice(
        desired.deployment_id,
        p,
        p.status,
        weightOf(before, p.canary),
        true,
        `${p.message}; the file still asks for this split: change it (a new revision, or the stable split) to go on`,
      ),
    };
  }
  if (isActive(p) && sameRouting(p.target, declared)) {
    return {
      after: copySplit(declared),
      hold: {},
      planned: {
        canary: p.canary,
        begins: false,
        stable: copySplit(p.stable),
        steps: structuredClone(p.steps),
        on_failure: p.on_failure,
        from_step: p.step,
      },
      notice: {
        ...notice(desired.deployment_id, p, p.status, weightOf(before, p.canary), false, progressMessage(p, now)),
        waiting: isWaiting(p, now),
      },
    };
  }
  const rollout: Rollout | null = desired.rollout ?? null;
  const canary = rollout ? canaryOf(before, declared) : null;
  if (
    !rollout ||
    canary === null ||
    !hasIntermediateWork(rollout.steps, weightOf(before, canary), weightOf(declared, canary))
  ) {
    return plain;
  }
  const planned: PlannedRollout = {
    canary,
    begins: true,
    stable: copySplit(before),
    steps: structuredClone(rollout.steps),
    on_failure: rollout.on_failure,
    from_step: 0,
  };
  return {
    after: copySplit(declared),
    hold: {},
    planned,
    notice: {
      deployment_id: desired.deployment_id,
      canary,
      status: 'starting',
      step: 0,
      steps: rollout.steps.length,
      weight_bps: weightOf(before, canary),
      diverged: false,
      message: `will roll out ${canary} in ${rollout.steps.length} steps: ${describeSteps(rollout.steps)}, then ${formatSplit(declared)}`,
    },
  };
}

/** Held at a pause whose timer has not run out, or waiting for `bp rollout promote` (also a halted analysis). */
export function isWaiting(p: RolloutProgress, now: Date): boolean {
  if (p.promoted !== null) return false;
  if (p.status === 'halted') return true;
  if (p.status !== 'paused') return false;
  return p.pause_until === null || Date.parse(p.pause_until) > now.getTime();
}

function progressMessage(p: RolloutProgress, now: Date): string {
  if (p.status === 'paused' && p.pause_until !== null && Date.parse(p.pause_until) <= now.getTime()) {
    return `the pause at step ${p.step + 1}/${p.steps.length} ended at ${p.pause_until}; apply goes on`;
  }
  if (p.promoted !== null) return `promoted${p.promoted === 'full' ? ' fully' : ''}; apply goes on`;
  return p.message;
}

function notice(
  deploymentId: string,
  p: RolloutProgress,
  status: RolloutNotice['status'],
  weight: number,
  diverged: boolean,
  message: string,
): RolloutNotice {
  return {
    deployment_id: deploymentId,
    canary: p.canary,
    status,
    step: p.step,
    steps: p.steps.length,
    weight_bps: weight,
    diverged,
    message,
  };
}

export function describeStep(s: RolloutStep): string {
  if ('weight_bps' in s) return formatBps(s.weight_bps);
  if ('pause' in s) return s.pause.duration !== undefined ? `pause ${s.pause.duration}` : 'pause until promoted';
  const a = s.analysis;
  const bounds = [a.min !== undefined ? `>= ${a.min}` : null, a.max !== undefined ? `<= ${a.max}` : null]
    .filter(Boolean)
    .join(' and ');
  return `analysis ${a.metric} ${bounds} (${a.count} x ${a.interval})`;
}

export function describeSteps(steps: readonly RolloutStep[]): string {
  return steps.map(describeStep).join(', ');
}

export function formatBps(bps: number): string {
  return `${bps / 100}%`;
}

export function formatSplit(split: readonly SplitEntry[]): string {
  return split
    .filter((e) => e.weight_bps > 0)
    .map((e) => `${e.revision_id} ${formatBps(e.weight_bps)}`)
    .join(' / ');
}
