/** Comparing traffic splits (lists of revision weights). */
import type { SplitEntry } from '../model/environment.js';

export function weightOf(split: readonly SplitEntry[], revisionId: string): number {
  let w = 0;
  for (const e of split) if (e.revision_id === revisionId) w += e.weight_bps;
  return w;
}

/** Same entries in the same order: what an operator wrote vs what bp last enforced. */
export function sameSplitOrdered(a: readonly SplitEntry[], b: readonly SplitEntry[]): boolean {
  return (
    a.length === b.length && a.every((e, i) => e.revision_id === b[i].revision_id && e.weight_bps === b[i].weight_bps)
  );
}

/**
 * Same routing: order and 0-weight entries do not change where requests go, and providers
 * report splits in their own order, so drift compares revision -> weight only.
 */
export function sameRouting(a: readonly SplitEntry[], b: readonly SplitEntry[]): boolean {
  const ma = routingMap(a);
  const mb = routingMap(b);
  if (ma.size !== mb.size) return false;
  for (const [id, w] of ma) if (mb.get(id) !== w) return false;
  return true;
}

function routingMap(split: readonly SplitEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of split) if (e.weight_bps > 0) m.set(e.revision_id, (m.get(e.revision_id) ?? 0) + e.weight_bps);
  return m;
}

export function copySplit(split: readonly SplitEntry[]): SplitEntry[] {
  return split.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps }));
}
