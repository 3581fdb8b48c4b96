/** Short human phrases that say why a step is in the plan. */
import type { SplitEntry } from '../model/environment.js';
import type { PlannedRollout, RolloutNotice, Verb } from '../model/plan.js';
import type { LifecycleState, RecordedRevision } from '../model/state.js';
import type { TargetLifecycle } from './lifecycle.js';
import { sameSplitOrdered, weightOf } from './splits.js';

export function revisionReason(a: {
  revisionId: string;
  recorded: RecordedRevision | null;
  current: LifecycleState;
  target: TargetLifecycle;
  archiveReason: string | null;
  driftReason: string | null;
  before: readonly SplitEntry[];
  after: readonly SplitEntry[];
}): string {
  if (a.driftReason) return a.driftReason;
  if (a.target === 'archived') return a.archiveReason ?? 'desired archived';
  if (a.target === 'inactive') {
    if (a.current === 'warming') return 'finish interrupted warm, then deactivate';
    if (a.current === 'draining') return 'finish interrupted drain';
    const losing = weightOf(a.before, a.revisionId) > 0 && weightOf(a.after, a.revisionId) === 0;
    return losing ? 'losing all traffic' : 'desired inactive';
  }
  switch (a.current) {
    case 'failed':
      return 'retry after failure';
    case 'draining':
      return 'finish drain, then reactivate';
    case 'warming':
      return 'finish interrupted warm';
    case 'staged':
      return 'warm staged revision';
    default:
      return a.recorded === null || a.recorded.spec === null ? 'new revision' : 'activate inactive revision';
  }
}

export function splitReason(a: {
  before: readonly SplitEntry[];
  after: readonly SplitEntry[];
  drifted: boolean;
  listenChanged: boolean;
}): string {
  if (a.drifted) return 'drift: split changed outside bp';
  if (a.before.length === 0) return 'initial traffic split';
  if (!sameSplitOrdered(a.before, a.after)) {
    const gaining = a.after.some((e) => e.weight_bps > 0 && weightOf(a.before, e.revision_id) === 0);
    if (gaining) return 'gaining traffic';
    const losing = a.before.some((e) => e.weight_bps > 0 && weightOf(a.after, e.revision_id) === 0);
    return losing ? 'losing all traffic' : 'traffic weights changed';
  }
  if (a.listenChanged) return 'listen address changed';
  return 're-point traffic at re-warmed revisions';
}

/** An interrupted apply left this step's intent recorded: say so rather than a fresh reason. */
export function resumeReason(verb: Verb): string {
  return `resume interrupted ${verb === 'apply_traffic_split' ? 'traffic split' : verb}`;
}

export function rolloutReason(planned: PlannedRollout, notice: RolloutNotice | null): string {
  if (planned.begins) return notice?.message ?? `roll out ${planned.canary}`;
  const at = `step ${Math.min(planned.from_step + 1, planned.steps.length)}/${planned.steps.length}`;
  return `continue the rollout of ${planned.canary} at ${at}${notice?.message ? `: ${notice.message}` : ''}`;
}
