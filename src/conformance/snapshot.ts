/**
 * What the bench compares: a deployer's `observe`, reduced to the ids of one check and to
 * the facts the contract pins (present/healthy per revision, weight per revision per split).
 */
import type { Observation } from '../model/deployer.js';

export type ObservedStatus = 'absent' | 'healthy' | 'unhealthy';

export interface Snapshot {
  /** Only revisions observed present; a missing key means absent. */
  revisions: Record<string, ObservedStatus>;
  /** Only non-empty splits; weights of 0 are left out (they route nothing). */
  splits: Record<string, Record<string, number>>;
}

/** revision_id -> weight, zero weights dropped; junk entries are kept visible, not hidden. */
export function weightMap(entries: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!Array.isArray(entries)) return out;
  for (const e of entries as Array<{ revision_id?: unknown; weight_bps?: unknown }>) {
    const id = String(e?.revision_id);
    const w = Number(e?.weight_bps);
    if (w !== 0) out[id] = (out[id] ?? 0) + w;
  }
  return out;
}

/** Throws a plain description when `observe` returned something that is not an Observation. */
export function observationProblem(obs: unknown): string | null {
  if (!obs || typeof obs !== 'object') return `observe returned ${JSON.stringify(obs)}, not an object`;
  const o = obs as Partial<Observation>;
  if (!o.revisions || typeof o.revisions !== 'object') return 'observe returned no `revisions` object';
  if (!o.splits || typeof o.splits !== 'object') return 'observe returned no `splits` object';
  return null;
}

export function snapshotOf(obs: Observation, prefix: string): Snapshot {
  const revisions: Snapshot['revisions'] = {};
  for (const id of Object.keys(obs.revisions).sort()) {
    if (!id.startsWith(prefix)) continue;
    const r = obs.revisions[id];
    if (r?.present) revisions[id] = r.healthy ? 'healthy' : 'unhealthy';
  }
  const splits: Snapshot['splits'] = {};
  for (const dep of Object.keys(obs.splits).sort()) {
    if (!dep.startsWith(prefix)) continue;
    const m = weightMap(obs.splits[dep]);
    if (Object.keys(m).length > 0) splits[dep] = m;
  }
  return { revisions, splits };
}

export function statusIn(s: Snapshot, revisionId: string): ObservedStatus {
  return s.revisions[revisionId] ?? 'absent';
}

export function splitIn(s: Snapshot, deploymentId: string): Record<string, number> {
  return s.splits[deploymentId] ?? {};
}
