/**
 * Exit codes a pipeline can rely on: the one table in docs/ci.md (and docs/design.md, CLI).
 * Pure decisions, table-tested. 1 is every error, 127 an unknown command, 130 an interrupt.
 */
import type { Plan } from '../model/plan.js';
import type { RolloutStatus } from '../model/state.js';

/** `plan --detailed-exitcode`: an apply would change something. */
export const EXIT_CHANGES = 2;
/** `bp rollout status --exit-status`: a rollout that ended badly or stopped. */
export const EXIT_ROLLOUT_FAILED = 3;
/**
 * A rollout holds at a pause or a halted analysis: `bp apply`/`bp rollout promote` that stopped
 * there, or `plan --detailed-exitcode` whose only work is such a rollout. Waiting for time or
 * for `bp rollout promote`; not a failure, not done either.
 */
export const EXIT_WAITING = 4;
/** `plan --detailed-exitcode`: the file asks for a split bp rolled back (rollout or `bp rollback`). */
export const EXIT_DIVERGED = 5;

const FAILED: ReadonlySet<RolloutStatus> = new Set<RolloutStatus>(['rolled_back', 'aborted', 'halted']);

/** 0 when every rollout shown is progressing, paused or completed; EXIT_ROLLOUT_FAILED otherwise. */
export function rolloutStatusExitCode(statuses: readonly RolloutStatus[]): number {
  return statuses.some((s) => FAILED.has(s)) ? EXIT_ROLLOUT_FAILED : 0;
}

/**
 * `bp plan --detailed-exitcode`, first match wins:
 *   2 when an apply would do work beyond rollouts that wait at a pause,
 *   4 when the only work left is rollouts waiting at a pause (an apply would hold again),
 *   5 when nothing changes but the file diverges from a split bp rolled back,
 *   0 otherwise (the environment matches the file).
 */
export function planExitCode(plan: Plan): number {
  const rollouts = plan.rollouts ?? [];
  const waiting = new Set(rollouts.filter((r) => r.waiting === true).map((r) => r.deployment_id));
  if (plan.steps.some((s) => !waiting.has(s.deployment_id))) return EXIT_CHANGES;
  if (waiting.size > 0) return EXIT_WAITING;
  if (rollouts.some((r) => r.diverged)) return EXIT_DIVERGED;
  return 0;
}

/** `bp apply`, `bp destroy`, `bp rollout promote|abort`, `bp rollback` from what the executor counted. */
export function applyExitCode(
  result: { failed: number; skipped: number; held: number; interrupted: boolean } | null,
  cancelled = false,
): number {
  if (cancelled) return 1;
  if (!result) return 0;
  if (result.interrupted) return 130;
  if (result.failed + result.skipped > 0) return 1;
  if (result.held > 0) return EXIT_WAITING;
  return 0;
}
