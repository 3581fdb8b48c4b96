/**
 * A revision is immutable once staged. This finds which fields changed, by path only:
 * values are never reported because env values may be secrets-by-reference.
 */
import type { Revision } from '../model/environment.js';
import type { RevisionSpec } from '../model/state.js';

export function specOf(revision: Revision): RevisionSpec {
  return structuredClone({ artifact: revision.artifact, resources: revision.resources, health: revision.health });
}

/**
 * Dotted paths (`artifact.env.GREETING`, `resources.replicas`) whose values differ, sorted;
 * the health timeout is a setting bp reads, changed through an `update` step, not part of it.
 */
export function changedSpecPaths(recorded: RevisionSpec, desired: RevisionSpec): string[] {
  const out: string[] = [];
  for (const key of ['artifact', 'resources', 'health'] as const) diff(recorded[key], desired[key], key, out);
  return out.filter((p) => p !== 'health.timeout_seconds').sort();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function diff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    // `undefined` and an absent key are the same once state has been through JSON.
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) diff(a[k], b[k], `${path}.${k}`, out);
    return;
  }
  if (!jsonEqual(a, b)) out.push(path);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!jsonEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

export function deepEqualJson(a: unknown, b: unknown): boolean {
  return jsonEqual(a, b);
}
