/**
 * History entries (`bp history`), built from what an operation did. Pure: the caller passes
 * the clock's time, the actor and the plan digest. Rollback reads entries back to find the
 * split to restore.
 */
import type { Plan } from '../model/plan.js';
import type { Actor, HistoryEntry, RecordedState } from '../model/state.js';

/** Step counts as the executor reports them. */
export interface StepCounts {
  succeeded: number;
  failed: number;
  skipped: number;
  notStarted: number;
  held: number;
  interrupted: boolean;
  /** Per step, how it ended (the executor's result has them; absent: no `updated` in the entry). */
  outcomes?: ReadonlyArray<{ step_id: string; status: string }>;
}

export const CI_VARIABLES = [
  'GITHUB_ACTOR',
  'GITHUB_SHA',
  'GITHUB_RUN_ID',
  'CI_PIPELINE_URL',
  'CI_COMMIT_SHA',
] as const;

/** The actor from a user name, host and process environment (only the CI variables are kept). */
export function actorFrom(user: string, host: string, env: Record<string, string | undefined>): Actor {
  const ci: Record<string, string> = {};
  for (const name of CI_VARIABLES) {
    const v = env[name];
    if (v) ci[name] = v;
  }
  return { user, host, ci };
}

export function outcomeOf(counts: StepCounts | null): HistoryEntry['outcome'] {
  if (!counts) return 'recorded';
  if (counts.interrupted) return 'interrupted';
  if (counts.failed > 0) return 'failed';
  if (counts.held > 0) return 'held';
  return 'succeeded';
}

export function historyEntry(o: {
  state: RecordedState;
  operation: string;
  actor: Actor;
  at: Date;
  plan: Plan | null;
  planDigest: string | null;
  counts: StepCounts | null;
  /** Deployments whose split and rollout the entry keeps (default: those the plan touches). */
  deployments?: string[];
  note?: string;
}): HistoryEntry {
  const touched = o.deployments ?? [...new Set((o.plan?.steps ?? []).map((s) => s.deployment_id))].sort();
  const splits: HistoryEntry['splits'] = {};
  const rollouts: HistoryEntry['rollouts'] = {};
  for (const id of touched) {
    const d = o.state.deployments[id];
    if (!d) continue;
    splits[id] = d.split.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps }));
    if (d.rollout)
      rollouts[id] = {
        canary: d.rollout.canary,
        status: d.rollout.status,
        step: d.rollout.step,
        steps: d.rollout.steps.length,
      };
  }
  const last = o.state.history?.[o.state.history.length - 1]?.id ?? 0;
  const total = o.plan?.steps.length ?? 0;
  const entry: HistoryEntry = {
    id: last + 1,
    at: o.at.toISOString(),
    operation: o.operation,
    actor: o.actor,
    plan_digest: o.planDigest,
    steps: {
      total,
      succeeded: o.counts?.succeeded ?? 0,
      failed: o.counts?.failed ?? 0,
      skipped: o.counts?.skipped ?? 0,
      not_started: o.counts?.notStarted ?? 0,
    },
    outcome: outcomeOf(o.counts),
    splits,
    rollouts,
  };
  if (o.note) entry.note = o.note;
  const updated = updatedSettings(o.plan, o.counts);
  if (updated) entry.updated = updated;
  return entry;
}

/** The field changes of the plan's `update` steps that succeeded, or null when none did. */
function updatedSettings(plan: Plan | null, counts: StepCounts | null): HistoryEntry['updated'] | null {
  const succeeded = new Set((counts?.outcomes ?? []).filter((x) => x.status === 'succeeded').map((x) => x.step_id));
  const out: NonNullable<HistoryEntry['updated']> = {};
  for (const s of plan?.steps ?? []) {
    if (s.verb === 'update' && s.changes && succeeded.has(s.id)) out[s.id] = structuredClone(s.changes);
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** The entry `--to ENTRY` names, or the latest entry before the newest that set a different split of `deployment`. */
export function rollbackTarget(
  history: readonly HistoryEntry[],
  deployment: string,
  to?: number,
): HistoryEntry | undefined {
  const withSplit = history.filter((h) => h.splits[deployment] !== undefined);
  if (to !== undefined) return withSplit.find((h) => h.id === to);
  const current = JSON.stringify(withSplit[withSplit.length - 1]?.splits[deployment]);
  for (let i = withSplit.length - 2; i >= 0; i--) {
    if (JSON.stringify(withSplit[i].splits[deployment]) !== current && withSplit[i].outcome === 'succeeded')
      return withSplit[i];
  }
  return undefined;
}
