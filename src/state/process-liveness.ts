/**
 * Is the process that wrote a lock still running? A pid alone is not enough: pids are
 * recycled, so a lock left by a crashed process could otherwise look held forever by an
 * unrelated process that happens to get the same pid. On Linux we also compare the
 * process start time, which a recycled pid will not share.
 */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

/** What /proc/PID/stat says of a process: its state letter (R, S, Z...) and start time. */
export interface ProcStat {
  state: string;
  /** Clock ticks since boot (field 22): with the pid, an identity a recycled pid will not share. */
  startTime: string;
}

/** /proc/PID/stat of `pid`, or null where /proc is unavailable (non-Linux) or the process does not exist. */
export function readProcStat(pid: number): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (comm) is parenthesised and may itself contain spaces or ')', so count from the last ')'.
  const fieldsFromThird = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fieldsFromThird[22 - 3];
  return startTime === undefined ? null : { state: fieldsFromThird[0], startTime };
}

/** Start time of `pid` in clock ticks since boot, or null (see `readProcStat`). */
export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True unless we can prove the process is gone: it is on this host and either its pid is
 * free or the pid now belongs to a process that started at a different time. Locks from
 * other hosts are always presumed alive; only an operator can judge those.
 */
export function holderMayBeAlive(holder: { host: string; pid: number; pid_start?: string | null }): boolean {
  if (holder.host !== hostname()) return true;
  if (!pidExists(holder.pid)) return false;
  if (holder.pid_start == null) return true;
  const now = processStartTime(holder.pid);
  return now === null || now === holder.pid_start;
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (common in containers).
    return process.env.USER ?? process.env.LOGNAME ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
