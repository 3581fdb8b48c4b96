/**
 * The snapshot (`state.json`): a full RecordedState, replaced atomically. The snapshot it
 * replaces is kept as `state.json.backup`, so one bad write (or a bad apply) can be undone
 * by hand.
 */
import { copyFile, link, readFile, rename, unlink } from 'node:fs/promises';
import type { StateCorruptError } from '../model/errors.js';
import { stateDocumentProblem, type RecordedState } from '../model/state.js';
import { messageRedactingReplacer } from '../model/redact.js';
import { tempPathFor, writeFileDurable } from './durable.js';
import { asIoError } from '../model/io-error.js';

export interface SnapshotPaths {
  snapshot: string;
  backup: string;
}

export async function readSnapshot(
  paths: SnapshotPaths,
  environmentId: string,
  corrupt: (where: string, problem: string) => Promise<StateCorruptError>,
): Promise<RecordedState | null> {
  let text: string;
  try {
    text = await readFile(paths.snapshot, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw await corrupt(paths.snapshot, `not valid JSON (${(e as Error).message})`);
  }
  const problem = stateDocumentProblem(v, environmentId);
  if (problem) throw await corrupt(paths.snapshot, problem);
  return v as RecordedState;
}

/** Replaces the snapshot, keeping the one it replaces as the backup. */
export async function writeSnapshot(paths: SnapshotPaths, state: RecordedState, onSync: () => void): Promise<void> {
  await keepBackup(paths);
  // writeFileDurable's directory fsync also makes the backup's rename durable.
  await writeFileDurable(paths.snapshot, JSON.stringify(state, messageRedactingReplacer(), 2) + '\n', {
    onSync,
    what: 'state file',
  });
}

/**
 * Copies the current snapshot to the backup name without ever leaving `state.json` absent:
 * a hard link (or a copy where links are unsupported) renamed over the old backup.
 */
async function keepBackup(paths: SnapshotPaths): Promise<void> {
  try {
    await keepBackupUnchecked(paths);
  } catch (e) {
    throw asIoError('write state backup', paths.backup, e);
  }
}

async function keepBackupUnchecked(paths: SnapshotPaths): Promise<void> {
  const temp = tempPathFor(paths.backup);
  try {
    await link(paths.snapshot, temp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // first snapshot: nothing to keep
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    await copyFile(paths.snapshot, temp);
  }
  try {
    await rename(temp, paths.backup);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}
