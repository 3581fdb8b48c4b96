/**
 * Basis points (0..10000, summing to 10000) to URL-map weights (0..1000 per backend service,
 * relative to their sum) and back, through the kit's one rounding (largest remainder, ties to
 * the earlier entry): the per-mille weights sum to exactly 1000, a revision with any basis
 * points keeps at least weight 1, and reading weights back agrees with every other deployer.
 */
import type { SplitEntry } from '../../model/environment.js';
import { fromBps, toBps } from '../kit/weights.js';

/** Weights resolve to 10 bps (per mille): the plugin's `weightGranularityBps`, shown by the plan. */
export const WEIGHT_GRANULARITY_BPS = 10;

export function toPerMille(entries: readonly SplitEntry[]): number[] {
  return fromBps(
    entries.map((e) => e.weight_bps),
    1000,
  );
}

/** Per-mille weights as basis points, scaled by their sum (GCE weights are relative), by the kit's rounding. */
export function fromPerMille(weights: readonly number[]): number[] {
  return toBps(weights);
}

/** The split `entries` really becomes on a URL map, in basis points (equal to `entries` for 10-bps steps). */
export function enforcedSplit(entries: readonly SplitEntry[]): SplitEntry[] {
  const bps = fromPerMille(toPerMille(entries));
  return entries.map((e, i) => ({ revision_id: e.revision_id, weight_bps: bps[i] }));
}
