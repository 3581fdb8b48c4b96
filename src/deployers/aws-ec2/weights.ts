/**
 * Basis points <-> ELBv2 forward-action weights. A listener rule weighs each target group
 * 0..999 and sends it weight/sum of the traffic, so weights are relative: a split is exact
 * whenever the basis points divided by their greatest common divisor all fit in 0..999,
 * which holds for every split in steps of 10 bps (0.1 %). Anything finer is rounded to the
 * nearest split the balancer can express, and that rounded split is what bp reports as
 * applied, so recorded state, `observe` and the balancer agree to the basis point.
 */
import type { SplitEntry } from '../../model/environment.js';
import { toSplit } from '../kit/weights.js';

export const MAX_ELB_WEIGHT = 999;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export interface ElbSplit {
  /** ELBv2 weight per entry, in entry order. */
  weights: number[];
  /** The split the weights really enforce, in basis points (equal to the input when exact). */
  enforced: SplitEntry[];
  exact: boolean;
}

/** Weights for a valid split (integers summing to 10000, as `enforceSplitInvariants` proved). */
export function toElbWeights(entries: readonly SplitEntry[]): ElbSplit {
  const bps = entries.map((e) => e.weight_bps);
  const divisor = bps.reduce((g, w) => gcd(g, w), 0) || 1;
  let weights = bps.map((w) => w / divisor);
  if (Math.max(...weights) > MAX_ELB_WEIGHT) {
    // Scale the largest to 999; a revision that was asked for traffic keeps at least weight 1.
    const scale = MAX_ELB_WEIGHT / Math.max(...bps);
    weights = bps.map((w) => (w === 0 ? 0 : Math.max(1, Math.round(w * scale))));
  }
  const enforced = toSplit(
    entries.map((e) => e.revision_id),
    weights,
  );
  const exact = enforced.every((e, i) => e.weight_bps === bps[i]);
  return { weights, enforced, exact };
}
