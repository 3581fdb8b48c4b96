/**
 * Plugin results are input too: each verb's result is checked against the plugin API's shapes
 * (src/model/deployer.ts) before bp records it. A warm that returns a string, or a split
 * "applied" to another deployment or with other weights than asked, is a failed step naming
 * the difference, never a recorded success.
 */
import type { SplitResult, StageResult, WarmResult } from '../model/deployer.js';
import type { SplitEntry } from '../model/environment.js';
import { PluginFaultError } from '../model/errors.js';

const MAX_SHOWN = 80;

function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** undefined (nothing to report) or `{ outputs?: object }`. */
export function checkStageResult(what: string, value: unknown): StageResult {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value))
    throw new PluginFaultError(`${what} returned ${kind(value)} (${show(value)}), not a StageResult object`);
  if (value.outputs !== undefined && !isPlainObject(value.outputs)) {
    throw new PluginFaultError(`${what} returned outputs that are ${kind(value.outputs)}, not an object`);
  }
  return value as StageResult;
}

/** undefined or `{ outputs?: object, endpoint?: string }`. */
export function checkWarmResult(what: string, value: unknown): WarmResult {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value))
    throw new PluginFaultError(`${what} returned ${kind(value)} (${show(value)}), not a WarmResult object`);
  checkStageResult(what, { outputs: value.outputs });
  if (value.endpoint !== undefined && typeof value.endpoint !== 'string') {
    throw new PluginFaultError(`${what} returned an endpoint that is ${kind(value.endpoint)}, not a string`);
  }
  return value as WarmResult;
}

function weights(entries: SplitEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) if (e.weight_bps !== 0) m.set(e.revision_id, e.weight_bps);
  return m;
}

/**
 * `{ applied_deployment_id, applied_entries }` naming the deployment asked for and the same
 * non-zero weights as `requested` (order and zero-weight entries aside).
 */
export function checkSplitResult(
  what: string,
  value: unknown,
  deploymentId: string,
  requested: SplitEntry[],
): SplitResult {
  if (!isPlainObject(value))
    throw new PluginFaultError(`${what} returned ${kind(value)} (${show(value)}), not a SplitResult object`);
  if (value.applied_deployment_id !== deploymentId) {
    throw new PluginFaultError(
      `${what} reports a split applied to deployment ${show(value.applied_deployment_id)}, not "${deploymentId}"`,
    );
  }
  const entries = value.applied_entries;
  if (
    !Array.isArray(entries) ||
    !entries.every((e) => isPlainObject(e) && typeof e.revision_id === 'string' && Number.isInteger(e.weight_bps))
  ) {
    throw new PluginFaultError(
      `${what} returned applied_entries that are not a list of { revision_id, weight_bps }: ${show(entries)}`,
    );
  }
  const want = weights(requested);
  const got = weights(entries as SplitEntry[]);
  const differences: string[] = [];
  for (const [rev, w] of want) {
    const g = got.get(rev);
    if (g !== w) differences.push(`"${rev}" ${g === undefined ? 'missing' : `at ${g} bps`} (asked ${w} bps)`);
  }
  for (const [rev, g] of got) if (!want.has(rev)) differences.push(`"${rev}" at ${g} bps was not asked for`);
  if (differences.length > 0) {
    throw new PluginFaultError(`${what} applied a split that differs from the request: ${differences.join('; ')}`);
  }
  return value as unknown as SplitResult;
}
