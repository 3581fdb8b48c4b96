/**
 * Reading a saved plan file (`bp plan -out`), apart from the apply operation so that `bp plan`,
 * `bp show` and `bp state` recognise one without loading the executor and the live view.
 */
import { open, readFile } from 'node:fs/promises';
import { UsageError } from '../../model/errors.js';
import type { PlanFile } from '../../model/plan.js';
import { checkSavedPlan } from '../../plan/saved-plan.js';

/**
 * A saved plan is JSON with our format marker; anything else is an env file (null). A saved
 * plan is input like an env file: re-validated, its digest checked (src/plan/saved-plan.ts).
 */
export async function readPlanFile(path: string): Promise<PlanFile | null> {
  const doc = await sniffPlanFile(path);
  return doc === null ? null : checkSavedPlan(doc, path);
}

/** The parsed JSON of a file carrying the saved-plan marker, unchecked; null for anything else. */
export async function sniffPlanFile(path: string): Promise<unknown> {
  const unreadable = (e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  };
  // Peek first: an env file (or /dev/urandom) is never read whole here; the spec layer reads
  // env files itself, with bounded memory.
  if (!(await startsLikeJson(path).catch(unreadable))) return null;
  const text = await readFile(path, 'utf8').catch(unreadable);
  try {
    const doc = JSON.parse(text) as { format_version?: unknown } | null;
    return doc?.format_version === 'bp.planfile/v1' ? doc : null;
  } catch {
    return null;
  }
}

async function startsLikeJson(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, null);
    return buffer.subarray(0, bytesRead).toString('utf8').trimStart().startsWith('{');
  } finally {
    await handle.close();
  }
}
