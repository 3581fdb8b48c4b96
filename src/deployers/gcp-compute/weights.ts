/**
 * Basis points (0..10000, summing to 10000) to URL-map weights (0..1000 per backend service,
 * relative to their sum) and back. Largest-remainder rounding keeps the per-mille weights
 * summing to exactly 1000, and a revision with any basis points keeps at least weight 1 so it
 * is never silently dropped from the split.
 */
import type { SplitEntry } from '../../model/environment.js';

export function toPerMille(entries: readonly SplitEntry[]): number[] {
  const exact = entries.map((e) => e.weight_bps / 10);
  const out = exact.map(Math.floor);
  let missing = 1000 - out.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (missing <= 0) break;
    out[i]++;
    missing--;
  }
  for (let i = 0; i < out.length; i++) {
    if (entries[i].weight_bps > 0 && out[i] === 0) {
      const donor = out.indexOf(Math.max(...out));
      out[donor]--;
      out[i] = 1;
    }
  }
  return out;
}

/** Per-mille weights as basis points, scaled by their sum (GCE weights are relative). */
export function fromPerMille(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return weights.map(() => 0);
  const bps = weights.map((w) => Math.round((w * 10000) / total));
  const drift = 10000 - bps.reduce((a, b) => a + b, 0);
  if (drift !== 0) bps[bps.indexOf(Math.max(...bps))] += drift;
  return bps;
}
