/**
 * Process identity and control. A pid alone is not an identity: after a reboot or enough
 * churn the number names someone else's process. A pid plus its kernel start time (field
 * 22 of /proc/PID/stat, in clock ticks since boot) does, and survives bp restarts.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ProviderError } from '../../model/errors.js';
import { processStartTime, readProcStat } from '../../state/process-liveness.js';
import { waitUntil } from '../kit/poll.js';

export interface ProcessIdentity {
  pid: number;
  start_time: string;
}

/** Ours and running: same pid, same start time, not a zombie waiting to be reaped. */
export function isAlive(id: ProcessIdentity): boolean {
  const stat = readProcStat(id.pid);
  return stat !== null && stat.startTime === id.start_time && stat.state !== 'Z' && stat.state !== 'X';
}

/** Whether the identity still names the process we started (alive or an unreaped zombie). */
function isOurs(id: ProcessIdentity): boolean {
  return readProcStat(id.pid)?.startTime === id.start_time;
}

/**
 * Signals the whole process group (the child was started as its leader) so a shell
 * wrapper's children are stopped too. Never signals a pid that is no longer ours.
 */
export function signalGroup(id: ProcessIdentity, signal: NodeJS.Signals): void {
  if (!isOurs(id)) return;
  try {
    process.kill(-id.pid, signal);
  } catch {
    try {
      process.kill(id.pid, signal);
    } catch {
      /* gone in between: fine */
    }
  }
}

function waitGone(id: ProcessIdentity, ms: number): Promise<boolean> {
  return waitUntil(() => !isAlive(id), { what: `process ${id.pid} to exit`, timeoutMs: ms, intervalMs: 25 });
}

/** SIGTERM, then SIGKILL once `graceMs` has passed. Resolves once the process is gone. */
export async function stopProcess(id: ProcessIdentity, graceMs: number): Promise<void> {
  if (!isAlive(id)) {
    signalGroup(id, 'SIGKILL'); // a zombie leader may still have live grandchildren
    return;
  }
  signalGroup(id, 'SIGTERM');
  if (await waitGone(id, graceMs)) {
    signalGroup(id, 'SIGKILL');
    return;
  }
  signalGroup(id, 'SIGKILL');
  if (!(await waitGone(id, 5000))) {
    throw new ProviderError(`process ${id.pid} survived SIGKILL`, { retryable: true });
  }
}

export interface SpawnRequest {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

/**
 * Starts a process in its own session and process group with output appended to
 * `logFile`, not attached to bp in any way, so it outlives bp.
 */
export function spawnDetached(req: SpawnRequest): ProcessIdentity {
  const fd = openSync(req.logFile, 'a', 0o600);
  try {
    const child = spawn(req.command, req.args, {
      cwd: req.cwd,
      env: req.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.on('error', () => undefined); // reported through the health wait and the log
    child.unref();
    const pid = child.pid;
    const start = pid === undefined ? null : processStartTime(pid);
    if (pid === undefined || start === null) {
      throw new ProviderError(`could not start ${req.command}: the process exited at once (see ${req.logFile})`);
    }
    return { pid, start_time: start };
  } finally {
    closeSync(fd);
  }
}
