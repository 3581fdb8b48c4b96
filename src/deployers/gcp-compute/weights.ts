/**
 * Basis points (0..10000, summing to 10000) to URL-map weights (0..1000 per backend service,
 * relative to their sum) and back, through the kit's one rounding (largest remainder, ties to
 * the earlier entry): the per-mille weights sum to exactly 1000, a revision with any basis
 * points keeps at least weight 1, and reading weights back agrees with every other deployer.
 */
import type { SplitEntry } from '../../model/environment.js';
import { fromBps, toBps } from '../kit/weights.js';

export function toPerMille(entries: readonly SplitEntry[]): number[] {
  return fromBps(entries.map((e) => e.weight_bps), 1000);
}

/** Per-mille weights as basis points, scaled by their sum (GCE weights are relative). */
export function fromPerMille(weights: readonly number[]): number[] {
  return toBps(weights);
}
