/**
 * The one rounding of weights to integers with a fixed sum (largest remainder, Hamilton's
 * method, ties to the earlier entry), and the split a provider with a coarser weight resolution
 * really enforces. In the model because both sides need it: the pure planner shows the
 * enforced split ahead of time, deployers enforce and report it (through the deployer kit,
 * src/deployers/kit/weights.ts).
 */
import { FULL_WEIGHT_BPS, type SplitEntry } from './environment.js';

export interface ApportionOptions {
  /**
   * Every entry with a positive weight gets at least this much (a revision asked for traffic
   * is never dropped), taken from the largest share (the earliest on a tie). Default 0.
   */
  minPositive?: number;
}

/**
 * Integers summing to exactly `total`, proportional to `weights` (largest remainder, Hamilton's
 * method, ties to the earlier entry); all zeros when every weight is zero. Canary splits and
 * every deployer's weights round this one way, so they agree to the basis point.
 */
export function largestRemainder(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0 || total <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * total) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - out[i] })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

/**
 * Integers summing to exactly `total`, proportional to `weights`; all zeros when every weight
 * is zero. With `minPositive`, each positive weight gets at least that (when `total` allows).
 */
export function apportion(weights: readonly number[], total: number, opts: ApportionOptions = {}): number[] {
  const out = largestRemainder(weights, total);
  const min = opts.minPositive ?? 0;
  if (min > 0) {
    for (let i = 0; i < out.length; i++) {
      while (weights[i] > 0 && out[i] < min) {
        const donor = largestAbove(out, weights, min);
        if (donor < 0) return out;
        out[donor]--;
        out[i]++;
      }
    }
  }
  return out;
}

/** The earliest of the largest shares that can give one away and keep its own minimum. */
function largestAbove(out: number[], weights: readonly number[], min: number): number {
  let best = -1;
  for (let i = 0; i < out.length; i++) {
    const floor = weights[i] > 0 ? min : 0;
    if (out[i] > floor && (best < 0 || out[i] > out[best])) best = i;
  }
  return best;
}

/**
 * The split a provider whose weights resolve to `granularityBps` basis points (10 for
 * per-mille weights) really enforces for `entries` (a valid split): each weight rounded by
 * `apportion` to a multiple of the granularity, summing to 10000, a revision asked for traffic
 * keeping at least one unit. Equal to `entries` when every weight is already a multiple.
 */
export function enforcedAtGranularity(entries: readonly SplitEntry[], granularityBps: number): SplitEntry[] {
  if (!Number.isInteger(granularityBps) || granularityBps <= 1 || FULL_WEIGHT_BPS % granularityBps !== 0) {
    return entries.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps }));
  }
  const units = apportion(
    entries.map((e) => e.weight_bps),
    FULL_WEIGHT_BPS / granularityBps,
    { minPositive: 1 },
  );
  return entries.map((e, i) => ({ revision_id: e.revision_id, weight_bps: units[i] * granularityBps }));
}
