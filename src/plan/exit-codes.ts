/**
 * Exit codes a pipeline can rely on (the table in docs/ci.md). Pure decisions, table-tested.
 */
import type { RolloutStatus } from '../model/state.js';

/** `bp rollout status --exit-status`: a rollout that ended badly or stopped. */
export const EXIT_ROLLOUT_FAILED = 3;

const FAILED: ReadonlySet<RolloutStatus> = new Set<RolloutStatus>(['rolled_back', 'aborted', 'halted']);

/** 0 when every rollout shown is progressing, paused or completed; EXIT_ROLLOUT_FAILED otherwise. */
export function rolloutStatusExitCode(statuses: readonly RolloutStatus[]): number {
  return statuses.some((s) => FAILED.has(s)) ? EXIT_ROLLOUT_FAILED : 0;
}
