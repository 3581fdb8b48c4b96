/**
 * Basis points (0..10000, summing to 10000) to Traffic Manager weights and back. Traffic
 * Manager weighs Enabled endpoints 1..1000, relative to their sum, and has no weight 0: a
 * revision with 0 bps is an endpoint with `endpointStatus: Disabled`. Weights are bps / 10,
 * rounded by largest remainder so they sum to exactly 1000 (exact for any split in 10 bps
 * steps), and a revision with any basis points keeps at least weight 1.
 */
import type { SplitEntry } from '../../model/environment.js';
import { fromBps, toBps } from '../kit/weights.js';

/** Weights resolve to 10 bps (per mille): the plugin's `weightGranularityBps`, shown by the plan. */
export const WEIGHT_GRANULARITY_BPS = 10;

export interface TmWeight {
  weight: number;
  enabled: boolean;
}

export function toTrafficManager(entries: readonly SplitEntry[]): TmWeight[] {
  const weights = fromBps(
    entries.map((e) => e.weight_bps),
    1000,
  );
  return entries.map((e, i) =>
    e.weight_bps > 0 ? { weight: weights[i], enabled: true } : { weight: 1, enabled: false },
  );
}

/** What Traffic Manager really sends each endpoint, in basis points summing to 10000 (all 0 when none is enabled). */
export function fromTrafficManager(weights: readonly TmWeight[]): number[] {
  return toBps(weights.map((w) => (w.enabled ? w.weight : 0)));
}

/** The split `entries` really becomes on Traffic Manager, in basis points (equal to `entries` for 10-bps steps). */
export function enforcedSplit(entries: readonly SplitEntry[]): SplitEntry[] {
  const bps = fromTrafficManager(toTrafficManager(entries));
  return entries.map((e, i) => ({ revision_id: e.revision_id, weight_bps: bps[i] }));
}
