/**
 * Crash-safe file writes. A reader (or a machine coming back from a power cut) sees either
 * the old contents or the new ones, never a mix: write a temp file beside the target, fsync
 * it, rename it over the target, then fsync the directory so the rename itself is durable.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asIoError, withIo } from '../model/io-error.js';

export interface DurableWriteOptions {
  /** Permission bits of the new file; state files default to owner-only. */
  mode?: number;
  /** Called once per fsync issued, for callers that count them (benchmarks, tests). */
  onSync?: () => void;
  /** What the file is, for error messages: "state file", "plan file" ("file" by default). */
  what?: string;
}

/** Temp files carry this marker so a later writer can recognise and remove crash leftovers. */
export const TEMP_MARKER = '.tmp-';

export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}${TEMP_MARKER}${process.pid}-${randomUUID().slice(0, 8)}`);
}

export async function writeFileDurable(
  path: string,
  data: string | Uint8Array,
  opts: DurableWriteOptions = {},
): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const temp = tempPathFor(path);
  // Every failure names the file and the step: "could not write state file X: no space left on device".
  const what = opts.what ?? 'file';
  const fh = await withIo(`create ${what}`, temp, () => open(temp, 'wx', mode));
  try {
    // open()'s mode is filtered by the umask; chmod makes the result exact either way.
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
    opts.onSync?.();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw asIoError(`write ${what}`, temp, e);
  }
  await withIo(`write ${what}`, temp, () => fh.close());
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw asIoError(`replace ${what}`, path, e);
  }
  await withIo(`sync the folder of ${what}`, path, () => fsyncDirectory(dirname(path)));
  opts.onSync?.();
}

/** Makes renames, creations and unlinks inside `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
