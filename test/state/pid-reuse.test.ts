/**
 * A pid alone is not a process: once the recorded process is gone, the kernel hands its
 * number to someone else. Locks and local-process records carry the process start time
 * (/proc/PID/stat field 22) with the pid, so a live but DIFFERENT process under a recorded
 * pid is recognised as a dead holder and is never signalled. The "reused pid" here is a
 * `sleep` this test spawns, recorded with a start time that is not its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LockInfo } from '../../src/model/errors.js';
import { isAlive, signalGroup } from '../../src/deployers/local-host/proc.js';
import { LocalStateBackend } from '../../src/state/local.js';
import { holderMayBeAlive, processStartTime } from '../../src/state/process-liveness.js';
import { bp, tempDir } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let sleeper: ChildProcess;
let pid: number;
let start: string;

beforeEach(() => {
  t = tempDir('bp-pid-reuse-');
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  pid = sleeper.pid!;
  start = processStartTime(pid)!;
});
afterEach(() => {
  sleeper.kill('SIGKILL');
  t.cleanup();
});

const stillRunning = () => processStartTime(pid) === start;
const wrongStart = () => String(Number(start) + 12345);

function plantLock(stateDir: string, pidStart: string | null): LockInfo {
  const info: LockInfo = {
    id: 'planted-lock',
    pid,
    host: hostname(),
    user: 'someone',
    operation: 'apply',
    created: '2026-01-01T00:00:00.000Z',
  };
  mkdirSync(join(stateDir, 'envs', 'demo'), { recursive: true });
  writeFileSync(join(stateDir, 'envs', 'demo', 'lock.json'), JSON.stringify({ ...info, pid_start: pidStart }), {
    mode: 0o600,
  });
  return pidStart === null ? info : { ...info, pid_start: pidStart };
}

describe.runIf(process.platform === 'linux')('pid reuse', () => {
  it('the start time is read from /proc for the spawned process', () => {
    expect(start).toMatch(/^\d+$/);
    expect(holderMayBeAlive({ host: hostname(), pid, pid_start: start })).toBe(true);
    expect(holderMayBeAlive({ host: hostname(), pid, pid_start: wrongStart() })).toBe(false);
  });

  it('a lock naming a live, different process is taken over as a dead holder', async () => {
    const stateDir = join(t.dir, '.bp');
    // Create the layout first, then plant the lock the "crashed" apply left behind.
    await new LocalStateBackend(stateDir).lock('demo', { operation: 'x', timeoutMs: 0 }).then((s) => s.release());
    const planted = plantLock(stateDir, wrongStart());
    const took: LockInfo[] = [];
    const backend = new LocalStateBackend(stateDir);
    const session = await backend.lock('demo', { operation: 'apply', timeoutMs: 0, onTakeover: (p) => took.push(p) });
    expect(took).toEqual([planted]);
    await session.release();
    expect(stillRunning()).toBe(true);
  });

  it('bp state unlock frees a lock whose pid now belongs to another process, but not a live holder', async () => {
    const stateDir = join(t.dir, '.bp');
    await new LocalStateBackend(stateDir).lock('demo', { operation: 'x', timeoutMs: 0 }).then((s) => s.release());
    const run = () => bp(['state', 'unlock', 'demo', 'planted-lock', '--state-dir', stateDir], { cwd: t.dir });

    plantLock(stateDir, start);
    const refused = await run();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`pid ${pid}`);
    expect(refused.stderr).toContain('--force');

    plantLock(stateDir, wrongStart());
    const freed = await run();
    expect(freed.code, freed.stderr).toBe(0);
    expect(freed.stdout).toContain('Released lock planted-lock');
    expect(stillRunning()).toBe(true);
  });

  it('a local-process record naming a reused pid is not alive and is never signalled', () => {
    const recorded = { pid, start_time: wrongStart() };
    expect(isAlive(recorded)).toBe(false);
    signalGroup(recorded, 'SIGKILL');
    expect(stillRunning()).toBe(true);
    expect(isAlive({ pid, start_time: start })).toBe(true);
  });
});
