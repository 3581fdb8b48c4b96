/**
 * What a reviewer needs to judge a plan: what a stage step deploys, and each changed field as
 * old -> new. Pure. Env values are shown as written (a `${env:NAME}` reference stays a
 * reference); a value whose variable name says it is a secret is masked even when literal.
 */
import type { Revision } from '../model/environment.js';
import type { FieldChange, StepDeploys } from '../model/plan.js';
import type { RecordedRevision, RevisionSpec } from '../model/state.js';

export const MASK = '(sensitive)';
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY)/i;

/** Spec fields that may change after a revision was ready: bp, not the deployer, reads them. */
export const MUTABLE_SPEC_FIELDS: readonly string[] = ['health.timeout_seconds'];

export function maskedEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) out[name] = SECRET_NAME.test(name) ? MASK : env[name]!;
  return out;
}

export function deploysOf(r: Revision): StepDeploys {
  const a = r.artifact;
  return {
    ...(a.image !== undefined ? { image: a.image } : {}),
    ...(a.command !== undefined ? { command: [...a.command] } : {}),
    ...(a.binary !== undefined ? { binary: a.binary } : {}),
    env: maskedEnv(a.env ?? {}),
    resources: { ...r.resources },
    health: { ...r.health },
    drain_seconds: r.drain_seconds,
    ttl: r.ttl,
  };
}

/** True when the revision never became ready, so it never served and may be replaced in place. */
export function neverReady(rec: RecordedRevision): boolean {
  if (rec.ready_at) return false;
  // State written before `ready_at` existed: only these lifecycles prove it never got further.
  return (
    (rec.lifecycle === 'staged' || rec.lifecycle === 'warming' || rec.lifecycle === 'failed') && rec.endpoint === null
  );
}

/** Changed immutable spec fields, with values (env values masked as in `deploysOf`). */
export function specChanges(recorded: RevisionSpec, desired: RevisionSpec): FieldChange[] {
  const out: FieldChange[] = [];
  for (const key of ['artifact', 'resources', 'health'] as const) walk(recorded[key], desired[key], key, out);
  return out
    .filter((c) => !MUTABLE_SPEC_FIELDS.includes(c.field))
    .map((c) => (isSecretEnvField(c.field) ? { field: c.field, old: masked(c.old), new: masked(c.new) } : c))
    .sort((x, y) => (x.field < y.field ? -1 : 1));
}

function isSecretEnvField(field: string): boolean {
  return field.startsWith('artifact.env.') && SECRET_NAME.test(field.slice('artifact.env.'.length));
}

function masked(v: unknown): unknown {
  return v === null || v === undefined ? null : MASK;
}

/** The mutable settings that differ between what is recorded and the file (an `update` step). */
export function settingChanges(rec: RecordedRevision, desired: Revision): FieldChange[] {
  const out: FieldChange[] = [];
  if (rec.drain_seconds !== desired.drain_seconds)
    out.push({ field: 'drain_seconds', old: rec.drain_seconds, new: desired.drain_seconds });
  if ((rec.ttl ?? null) !== (desired.ttl ?? null))
    out.push({ field: 'ttl', old: rec.ttl ?? null, new: desired.ttl ?? null });
  const was = rec.spec?.health.timeout_seconds;
  if (was !== undefined && was !== desired.health.timeout_seconds) {
    out.push({ field: 'health.timeout_seconds', old: was, new: desired.health.timeout_seconds });
  }
  return out;
}

/** `drain_seconds: 5 -> 9, ttl: (none) -> "2h"`. */
export function describeChanges(changes: readonly FieldChange[]): string {
  return changes.map((c) => `${c.field}: ${show(c.old)} -> ${show(c.new)}`).join(', ');
}

export function show(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Every leaf that differs between `a` and `b`, as `path.key` and `path[i]` fields, sorted by
 * nothing but document order. Lists of objects (rollout steps, webhooks) are compared item by
 * item; lists of plain values (a command, event names) are one value.
 */
export function fieldChanges(a: unknown, b: unknown, path: string): FieldChange[] {
  const out: FieldChange[] = [];
  walk(a, b, path, out, true);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: FieldChange[], intoLists = false): void {
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      walk(a[k], b[k], `${path}.${k}`, out, intoLists);
    return;
  }
  if (intoLists && Array.isArray(a) && Array.isArray(b) && [...a, ...b].some(isObject)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, out, intoLists);
    return;
  }
  if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null))
    out.push({ field: path, old: a ?? null, new: b ?? null });
}
