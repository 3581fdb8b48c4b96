/**
 * `bp promote`: may a revision proven in staging move to prod? Pure: decided from staging's
 * RECORDED state (what really ran), never from its file. The revision must be `ready`, carry
 * traffic now and without a break for at least `--min-soak` (from the history entries that
 * recorded its deployment's split), and not belong to a rollout that was rolled back, aborted
 * or halted. Each failed condition is one reason, named; `--force` overrides them all.
 */
import type { RecordedState } from '../model/state.js';
import { weightOf } from './splits.js';

export interface PromotionGate {
  /** Why promotion is refused; empty: allowed. */
  reasons: string[];
  /** When the revision began carrying traffic without a break (an entry's time), if known. */
  soakingSince: string | null;
}

export function promotionGate(
  state: RecordedState | null,
  environmentId: string,
  deploymentId: string,
  revisionId: string,
  minSoakMs: number,
  now: Date,
): PromotionGate {
  if (!state)
    return { reasons: [`environment "${environmentId}" has no recorded state: apply it first`], soakingSince: null };
  const reasons: string[] = [];
  const r = state.revisions[revisionId];
  const d = state.deployments[deploymentId];
  if (!r || !d) {
    return {
      reasons: [`"${environmentId}" has never applied revision ${revisionId} of ${deploymentId}`],
      soakingSince: null,
    };
  }
  if (r.lifecycle !== 'ready')
    reasons.push(`revision ${revisionId} is ${r.lifecycle} in "${environmentId}", not ready`);
  const p = d.rollout ?? null;
  if (p && p.canary === revisionId && (p.status === 'rolled_back' || p.status === 'aborted' || p.status === 'halted')) {
    reasons.push(`its rollout in "${environmentId}" is ${p.status.replace('_', ' ')}: ${p.message}`);
  }
  if (weightOf(d.split, revisionId) === 0) {
    reasons.push(`it carries no traffic in "${environmentId}"`);
    return { reasons, soakingSince: null };
  }
  const since = soakingSince(state, deploymentId, revisionId);
  if (since === null) {
    reasons.push(`no history entry of "${environmentId}" shows when it began carrying traffic`);
  } else {
    const soaked = now.getTime() - Date.parse(since);
    if (soaked < minSoakMs) {
      reasons.push(
        `it has carried traffic for ${formatSpan(Math.max(0, soaked))} (since ${since}), less than --min-soak ${formatSpan(minSoakMs)}`,
      );
    }
  }
  return { reasons, soakingSince: since };
}

/**
 * The time of the oldest entry in the newest unbroken run of history entries that recorded the
 * deployment's split with the revision carrying traffic (null: the latest such entry does not).
 */
export function soakingSince(state: RecordedState, deploymentId: string, revisionId: string): string | null {
  let since: string | null = null;
  const history = state.history ?? [];
  for (let i = history.length - 1; i >= 0; i--) {
    const split = history[i].splits[deploymentId];
    if (split === undefined) continue;
    if (weightOf(split, revisionId) === 0) break;
    since = history[i].at;
  }
  return since;
}

export function formatSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
}
