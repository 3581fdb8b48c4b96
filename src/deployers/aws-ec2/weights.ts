/**
 * Basis points <-> ELBv2 forward-action weights. A listener rule weighs each target group
 * 0..999 and sends it weight/sum of the traffic, so weights are relative. bp enforces splits
 * in steps of 10 bps (0.1 %), the same resolution and the same rounding (the kit's
 * `enforcedAtGranularity`) as gcp-compute and azure-vm, so the three clouds enforce, record
 * and report the same split for the same file, and the plan shows it ahead of time. A split in
 * 10 bps steps always fits: divided by the weights' greatest common divisor, every weight is
 * at most 999 (1000 only for a single entry, which becomes 1).
 */
import type { SplitEntry } from '../../model/environment.js';
import { enforcedAtGranularity } from '../kit/weights.js';

export const MAX_ELB_WEIGHT = 999;

/** The plugin's `weightGranularityBps`: what the plan rounds to, as the deployer does. */
export const WEIGHT_GRANULARITY_BPS = 10;

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
  const enforced = enforcedAtGranularity(entries, WEIGHT_GRANULARITY_BPS);
  const bps = enforced.map((e) => e.weight_bps);
  const divisor = bps.reduce((g, w) => gcd(g, w), 0) || 1;
  const weights = bps.map((w) => w / divisor);
  const exact = enforced.every((e, i) => e.weight_bps === entries[i].weight_bps);
  return { weights, enforced, exact };
}
