/**
 * Replicas mode turns weights into pod counts and back. A pool of P pods can express weights
 * only in steps of 1/P, and every revision with weight above 0 gets at least one pod, so a
 * 90/10 split over a pool of 1 becomes 1 pod each (50/50 in effect): the pool is grown to the
 * number of weighted revisions, never shrunk below it.
 */
import type { SplitEntry } from '../../model/environment.js';
import { toBps } from '../kit/weights.js';

/** Pod counts for the weighted entries (largest remainder; each at least 1); keyed by revision. */
export function apportion(pool: number, entries: SplitEntry[]): Map<string, number> {
  const weighted = entries.filter((e) => e.weight_bps > 0);
  const out = new Map<string, number>();
  if (weighted.length === 0) return out;
  const total = Math.max(pool, weighted.length);
  const sum = weighted.reduce((a, e) => a + e.weight_bps, 0);
  const quota = weighted.map((e) => (total * e.weight_bps) / sum);
  const counts = quota.map((q) => Math.max(1, Math.floor(q)));
  let assigned = counts.reduce((a, c) => a + c, 0);
  const byRemainder = (dir: 1 | -1) =>
    quota.map((q, i) => ({ i, r: q - counts[i] })).sort((a, b) => dir * (b.r - a.r) || a.i - b.i);
  while (assigned < total) {
    counts[byRemainder(1)[0].i]++;
    assigned++;
  }
  while (assigned > total) {
    const victim = byRemainder(-1).find(({ i }) => counts[i] > 1);
    if (!victim) break;
    counts[victim.i]--;
    assigned--;
  }
  weighted.forEach((e, i) => out.set(e.revision_id, counts[i]));
  return out;
}

/** The split pod counts really give (each pod an equal share), in basis points summing to 10000. */
export function effectiveSplit(counts: Array<{ revision_id: string; pods: number }>): SplitEntry[] {
  const live = counts.filter((c) => c.pods > 0);
  if (live.length === 0) return [];
  const bps = toBps(live.map((c) => c.pods));
  return live.map((c, i) => ({ revision_id: c.revision_id, weight_bps: bps[i] }));
}
