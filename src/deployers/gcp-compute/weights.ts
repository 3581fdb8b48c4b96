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

/**
 * Per-mille weights as basis points, scaled by their sum (GCE weights are relative), by
 * largest remainder (ties to the earlier entry), as aws-ec2 and azure-vm convert theirs.
 */
export function fromPerMille(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * 10000) / total);
  const out = exact.map(Math.floor);
  let missing = 10000 - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (missing <= 0) break;
    out[i]++;
    missing--;
  }
  return out;
}

/** The split `entries` really becomes on a URL map, in basis points (equal to `entries` for 10-bps steps). */
export function enforcedSplit(entries: readonly SplitEntry[]): SplitEntry[] {
  const bps = fromPerMille(toPerMille(entries));
  return entries.map((e, i) => ({ revision_id: e.revision_id, weight_bps: bps[i] }));
}
