/**
 * An exclusive lock as a file (`lock.json`), safe between processes on one host and on
 * shared filesystems that honour link(2)/O_EXCL. The lock file is written complete in a
 * temp file and hard-linked into place, so nobody ever reads a half-written lock.
 *
 * A lock left by a process that died (same host, pid gone or recycled) is taken over; the
 * takeover runs under a second exclusive file (`lock.json.takeover`) so that two
 * processes that both judged the lock stale cannot both remove it and then each remove
 * the other's fresh lock.
 */
import { randomUUID } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LockHeldError, UsageError, type LockInfo } from '../model/errors.js';
import type { LockRequest } from './backend.js';
import { tempPathFor } from './durable.js';
import { asIoError, withIo } from '../model/io-error.js';
import { currentUser, holderMayBeAlive, processStartTime } from './process-liveness.js';

/** What is stored: the public LockInfo plus what tells a live holder from a recycled pid. */
interface StoredLock extends LockInfo {
  pid_start: string | null;
}

interface LockFileContents {
  raw: string;
  /** Null when the file does not parse as a lock (torn by a crash on a filesystem without link). */
  lock: StoredLock | null;
  mtimeMs: number;
}

/** An unreadable lock file younger than this may still be being written; older is debris. */
const UNREADABLE_LOCK_GRACE_MS = 5_000;
/** A takeover takes milliseconds; a guard this old was left by a crashed taker. */
const STALE_GUARD_MS = 10_000;
const MAX_POLL_MS = 500;

export function newLockInfo(operation: string): LockInfo {
  const info: LockInfo = {
    id: randomUUID(),
    pid: process.pid,
    host: hostname(),
    user: currentUser(),
    operation,
    created: new Date().toISOString(),
  };
  const start = processStartTime(process.pid);
  if (start !== null) info.pid_start = start;
  return info;
}

/** Takes the lock at `path` for `info`, waiting up to `req.timeoutMs`. */
export async function acquireFileLock(
  path: string,
  environmentId: string,
  info: LockInfo,
  req: LockRequest,
): Promise<void> {
  try {
    await acquire(path, environmentId, info, req);
  } catch (e) {
    throw asIoError('write lock file', path, e);
  }
}

async function acquire(path: string, environmentId: string, info: LockInfo, req: LockRequest): Promise<void> {
  const stored: StoredLock = { ...info, pid_start: processStartTime(process.pid) };
  const content = JSON.stringify(stored, null, 2) + '\n';
  const deadline = Date.now() + Math.max(0, req.timeoutMs);
  let pollMs = 25;
  let takenOver: LockInfo | null = null;
  for (;;) {
    if (await createExclusive(path, content)) {
      if (takenOver) req.onTakeover?.(takenOver);
      return;
    }
    const current = await readLockFile(path);
    if (current === null) continue; // released between our attempt and our read
    if (isStale(current)) {
      if (await takeOver(path, current))
        takenOver = current.lock ? publicInfo(current.lock) : unreadableHolder(current);
      continue;
    }
    takenOver = null;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new LockHeldError(environmentId, current.lock ? publicInfo(current.lock) : unreadableHolder(current));
    }
    await sleep(Math.min(pollMs, remaining));
    pollMs = Math.min(pollMs * 1.5, MAX_POLL_MS);
  }
}

export async function readLockHolder(path: string): Promise<LockInfo | null> {
  const current = await readLockFile(path);
  if (current === null) return null;
  return current.lock ? publicInfo(current.lock) : unreadableHolder(current);
}

/** Removes the lock if it is still `id`'s; a lock someone else holds now is left alone. */
export async function releaseFileLock(path: string, id: string): Promise<void> {
  await withIo('remove lock file', path, async () => {
    const current = await readLockFile(path);
    if (current?.lock?.id === id) await unlinkIfPresent(path);
  });
}

/** Operator override: removes the lock only when `id` names the current holder. */
export async function forceUnlockFile(path: string, environmentId: string, id: string): Promise<void> {
  const current = await readLockFile(path);
  if (current === null) {
    throw new UsageError(`state of environment "${environmentId}" is not locked; there is nothing to unlock`);
  }
  const holderId = current.lock?.id ?? null;
  if (holderId !== id) {
    const holder = current.lock ? describe(current.lock) : `an unreadable lock file ${path}`;
    throw new UsageError(
      `lock id "${id}" does not match the lock on environment "${environmentId}": it is held by ${holder}` +
        (holderId ? ` with lock id "${holderId}"` : ''),
    );
  }
  await unlinkIfPresent(path);
}

function describe(l: LockInfo): string {
  return `${l.user}@${l.host} pid ${l.pid} (${l.operation}, since ${l.created})`;
}

/** With the holder's start time, so `bp state unlock` can tell a live holder from a reused pid. */
function publicInfo(l: StoredLock): LockInfo {
  const info: LockInfo = {
    id: l.id,
    pid: l.pid,
    host: l.host,
    user: l.user,
    operation: l.operation,
    created: l.created,
  };
  if (l.pid_start != null) info.pid_start = l.pid_start;
  return info;
}

function unreadableHolder(c: LockFileContents): LockInfo {
  return {
    id: 'unreadable',
    pid: 0,
    host: 'unknown',
    user: 'unknown',
    operation: 'unreadable lock file',
    created: new Date(c.mtimeMs).toISOString(),
  };
}

function isStale(c: LockFileContents): boolean {
  if (c.lock === null) return Date.now() - c.mtimeMs > UNREADABLE_LOCK_GRACE_MS;
  return !holderMayBeAlive(c.lock);
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = tempPathFor(path);
  await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createWithExclusiveOpen(path, content);
    throw e;
  } finally {
    await unlinkIfPresent(temp);
  }
}

/** Fallback for filesystems without hard links; a crash mid-write leaves an unreadable lock. */
async function createWithExclusiveOpen(path: string, content: string): Promise<boolean> {
  try {
    await writeFile(path, content, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

async function readLockFile(path: string): Promise<LockFileContents | null> {
  let raw: string;
  let mtimeMs: number;
  try {
    [raw, mtimeMs] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtimeMs)]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return { raw, lock: parseLock(raw), mtimeMs };
}

function parseLock(raw: string): StoredLock | null {
  try {
    const v = JSON.parse(raw) as Partial<StoredLock>;
    if (typeof v.id !== 'string' || typeof v.pid !== 'number' || typeof v.host !== 'string') return null;
    return {
      id: v.id,
      pid: v.pid,
      host: v.host,
      user: String(v.user ?? 'unknown'),
      operation: String(v.operation ?? 'unknown'),
      created: String(v.created ?? ''),
      pid_start: typeof v.pid_start === 'string' ? v.pid_start : null,
    };
  } catch {
    return null;
  }
}

/**
 * Removes the stale lock `seen`, if it is still the one in place. Returns false when
 * another process is mid-takeover or the lock changed; the caller simply tries again.
 */
async function takeOver(path: string, seen: LockFileContents): Promise<boolean> {
  const guard = `${path}.takeover`;
  try {
    await writeFile(guard, String(process.pid), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await removeAbandonedGuard(guard);
    await sleep(10);
    return false;
  }
  try {
    const now = await readLockFile(path);
    if (now === null || now.raw !== seen.raw) return false;
    // Move it aside before looking again: only the file we moved can be deleted, so a
    // fresh lock that slipped in between (after a force-unlock) is put back, not lost.
    const aside = `${path}.stale-${randomUUID().slice(0, 8)}`;
    await rename(path, aside);
    const moved = await readFile(aside, 'utf8');
    if (moved !== seen.raw) {
      await link(aside, path).catch(() => undefined);
      await unlinkIfPresent(aside);
      return false;
    }
    await unlinkIfPresent(aside);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  } finally {
    await unlinkIfPresent(guard);
  }
}

async function removeAbandonedGuard(guard: string): Promise<void> {
  try {
    const s = await stat(guard);
    if (Date.now() - s.mtimeMs > STALE_GUARD_MS) await unlinkIfPresent(guard);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
