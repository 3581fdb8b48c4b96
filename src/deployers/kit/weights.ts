/**
 * The one rounding every deployer uses to turn weights into integers with a fixed sum:
 * largest remainder (Hamilton's method), ties to the earlier entry. Basis points to a
 * provider's weights (ELBv2 0..999, URL maps 0..1000, Traffic Manager 1..1000, pod counts)
 * and a provider's weights back to basis points all go through `apportion`, so two deployers
 * enforcing or observing the same weights report the same split to the basis point.
 */
import { FULL_WEIGHT_BPS, type SplitEntry } from '../../model/environment.js';
import { apportion } from '../../model/weights.js';

export { apportion, type ApportionOptions, enforcedAtGranularity } from '../../model/weights.js';

/** Relative weights as basis points summing to 10000 (all 0 when every weight is 0). */
export function toBps(weights: readonly number[]): number[] {
  return apportion(weights, FULL_WEIGHT_BPS);
}

/** `toBps` as split entries, one per revision id, in order. */
export function toSplit(revisionIds: readonly string[], weights: readonly number[]): SplitEntry[] {
  const bps = toBps(weights);
  return revisionIds.map((revision_id, i) => ({ revision_id, weight_bps: bps[i] }));
}

/**
 * A split as a provider's relative weights summing to `total` (e.g. 1000), each revision with
 * traffic keeping at least weight 1. Exact (back through `toBps`) for splits in steps of
 * 10000/total basis points.
 */
export function fromBps(bps: readonly number[], total: number): number[] {
  return apportion(bps, total, { minPositive: 1 });
}
