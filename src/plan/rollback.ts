/**
 * `bp rollback ENV DEPLOYMENT [--to ENTRY]`: which split to restore and how recorded state says
 * so. Pure. A rollback is recorded as a rollout that ended `rolled_back`: its `stable` split is
 * the restored one and its `target` the split the file asked for, so every later plan holds
 * the deployment on the restored split and reports it as diverged until the file changes
 * (the same rule as a rollout rolled back by its analysis, see src/plan/rollout.ts).
 */
import { BpError } from '../model/errors.js';
import type { SplitEntry } from '../model/environment.js';
import type { HistoryEntry, RecordedState, RolloutProgress } from '../model/state.js';
import { rollbackTarget } from './history.js';
import { isActive } from './rollout.js';
import { copySplit, sameRouting, weightOf } from './splits.js';

export interface RollbackDecision {
  entry: HistoryEntry;
  restored: SplitEntry[];
  /** The revision losing the most traffic: held inactive (drained) while the file diverges. */
  canary: string;
  progress: RolloutProgress;
}

export function decideRollback(
  state: RecordedState,
  deploymentId: string,
  to: number | undefined,
  now: Date,
): RollbackDecision {
  const env = state.environment_id;
  const d = state.deployments[deploymentId];
  if (!d) throw new BpError('Usage', `environment "${env}" has no deployment "${deploymentId}"`);
  const current = d.rollout ?? null;
  if (isActive(current)) {
    throw new BpError(
      'Usage',
      `the rollout of ${current.canary} in ${deploymentId} is ${current.status.replace('_', ' ')}: ` +
        `stop it with bp rollout abort ${env} ${deploymentId} (rollback restores the split of a finished operation)`,
    );
  }
  const history = state.history ?? [];
  const entry = rollbackTarget(history, deploymentId, to);
  if (!entry) {
    throw new BpError(
      'Usage',
      to !== undefined
        ? `history of environment "${env}" has no entry #${to} recording deployment "${deploymentId}"; see bp history ${env}`
        : `history of environment "${env}" has no earlier successful split of "${deploymentId}" to roll back to; see bp history ${env}`,
    );
  }
  const restored = copySplit(entry.splits[deploymentId]!.filter((e) => e.weight_bps > 0));
  if (restored.length === 0) {
    throw new BpError(
      'Usage',
      `entry #${entry.id} (${entry.operation}) left "${deploymentId}" without traffic; pick another with --to (see bp history ${env})`,
    );
  }
  if (sameRouting(restored, d.split)) {
    throw new BpError('Usage', `"${deploymentId}" already runs the split of entry #${entry.id}: nothing to roll back`);
  }
  for (const e of restored) {
    const r = state.revisions[e.revision_id];
    if (!r || r.lifecycle === 'archived' || r.spec === null) {
      throw new BpError(
        'Usage',
        `cannot restore the split of entry #${entry.id}: revision ${e.revision_id} is ${r ? r.lifecycle : 'no longer recorded'} ` +
          `(archived revisions are final); add it again as a new revision with bp revision add`,
      );
    }
  }
  const canary = losingMost(d.split, restored);
  const at = now.toISOString();
  const progress: RolloutProgress = {
    canary,
    stable: restored,
    target: copySplit(d.split),
    steps: [],
    on_failure: 'rollback',
    step: 0,
    step_started_at: at,
    pause_until: null,
    measurements: [],
    promoted: null,
    status: 'rolled_back',
    message: `rolled back by an operator to the split of history entry #${entry.id} (${entry.operation}, ${entry.at})`,
    started_at: at,
    updated_at: at,
  };
  return { entry, restored, canary, progress };
}

/** The revision whose weight drops most from `before` to `after` (ties: the first in `before`). */
export function losingMost(before: readonly SplitEntry[], after: readonly SplitEntry[]): string {
  let best = before[0]?.revision_id ?? '';
  let drop = -1;
  for (const e of before) {
    const lost = weightOf(before, e.revision_id) - weightOf(after, e.revision_id);
    if (lost > drop) {
      drop = lost;
      best = e.revision_id;
    }
  }
  return best;
}
