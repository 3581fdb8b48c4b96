import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { LocalStateBackend } from '../../src/state/index.js';
import type { StateSession } from '../../src/state/index.js';
import { bp, collect, engineEnv, readProvider, spawnBp, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let provider: string;
const children: ChildProcess[] = [];
// Time is injected (BP_NOW), never slept through: revisions are staged at T0 and their 1h TTL
// has passed at AFTER_TTL, however loaded the machine is.
const T0 = '2026-01-01T00:00:00.000Z';
const BEFORE_TTL = '2026-01-01T00:30:00.000Z';
const AFTER_TTL = '2026-01-01T02:00:00.000Z';
let now = T0;
const run = (args: string[], env?: Record<string, string>) => bp(args, { cwd: t.dir, env: { BP_NOW: now, ...env } });

/** web: v1 carries all traffic, v2 has weight 0; both expire 1h after staging. api never expires. */
const envWith = (deployerConfig: Record<string, unknown> = {}, ttl = '1h') =>
  engineEnv({
    provider,
    deployerConfig,
    deployments: [
      {
        id: 'web',
        revisions: [
          { id: 'web-v1', ttl },
          { id: 'web-v2', ttl },
        ],
        traffic: [
          ['web-v1', 10000],
          ['web-v2', 0],
        ],
      },
      { id: 'api', revisions: [{ id: 'api-v1' }], traffic: [['api-v1', 10000]] },
    ],
  });

/** Applies the file at T0, then moves the clock past the TTLs. */
async function applyAndExpire(deployerConfig: Record<string, unknown> = {}): Promise<void> {
  writeFile(join(t.dir, 'env.yaml'), envWith(deployerConfig));
  const a = await run(['apply', 'env.yaml', '--auto-approve']);
  expect(a.code, a.stderr).toBe(0);
  now = AFTER_TTL;
}

const callsAfter = (n: number) =>
  readProvider(provider)
    .calls.slice(n)
    .map((c) => `${c.verb}:${c.key}`);

/** Recorded state, read in-process (cheaper than one more bp process on a busy CI host). */
async function stateOf() {
  const backend = new LocalStateBackend(join(t.dir, '.bp'));
  try {
    const state = await backend.load('demo');
    if (!state) throw new Error('no recorded state');
    return state;
  } finally {
    await backend.close();
  }
}

/** Resolves once the child's stdout (or stderr) matches. */
function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; saw:\n${seen}`)), timeoutMs);
    const on = (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

function watch(args: string[]): { child: ChildProcess; done: ReturnType<typeof collect> } {
  const child = spawnBp(['sweep', 'env.yaml', ...args], { cwd: t.dir, env: { BP_NOW: now } });
  children.push(child);
  return { child, done: collect(child) };
}

async function holdLock(): Promise<{ session: StateSession; backend: LocalStateBackend }> {
  const backend = new LocalStateBackend(join(t.dir, '.bp'));
  const session = await backend.lock('demo', { operation: 'test holder', timeoutMs: 0 });
  return { session, backend };
}

beforeEach(() => {
  now = T0;
  t = tempDir();
  provider = join(t.dir, 'provider.json');
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  t.cleanup();
});

describe('bp sweep', () => {
  it('drains and archives the expired revision without traffic, keeps and reports the one with traffic, touches nothing else', async () => {
    await applyAndExpire();
    const before = readProvider(provider);

    const s = await run(['sweep', 'env.yaml']);
    expect(s.stderr).not.toMatch(/Error/);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/revision web\/web-v1 expired at .* but still carries traffic/);
    expect(s.stdout).toMatch(
      /Sweep complete: 1 revision archived \(web\/web-v2\), 0 failed; 1 expired revision kept because it carries traffic\./,
    );
    expect(callsAfter(before.calls.length)).toEqual(['drain:web-v2', 'archive:web-v2']);
    const after = readProvider(provider);
    expect(after.revisions['web-v2']).toBeUndefined();
    expect(after.revisions['web-v1']).toMatchObject({ running: true });
    expect(after.splits).toEqual(before.splits);
    const state = await stateOf();
    expect(state.revisions['web-v2'].lifecycle).toBe('archived');
    expect(state.revisions['web-v1'].lifecycle).toBe('ready');
    expect(state.revisions['api-v1'].lifecycle).toBe('ready');

    const again = await run(['sweep', 'env.yaml', '--json']);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ event: 'sweep.finished', locked: false, archived: [], failed: [] });
    expect(summary.kept_with_traffic.map((x: { revision_id: string }) => x.revision_id)).toEqual(['web-v1']);
    expect(readProvider(provider).calls).toHaveLength(after.calls.length);
    // The archived, expired revision stays archived quietly: a full apply has nothing to do.
    expect((await run(['plan', 'env.yaml', '--detailed-exitcode'])).code).toBe(0);
  });

  it('retries transient failures of a revision and then succeeds', async () => {
    await applyAndExpire({
      faults: { 'drain:web-v2': { mode: 'transient', count: 1 }, 'archive:web-v2': { mode: 'transient', count: 2 } },
    });
    const s = await run(['sweep', 'env.yaml']);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(s.stdout).toMatch(/web\/web-v2: attempt 1 failed \(injected transient failure of drain web-v2\)/);
    expect(s.stdout).toMatch(/web\/web-v2: attempt 2 failed \(injected transient failure of archive web-v2\)/);
    expect(s.stdout).toMatch(/Sweep complete: 1 revision archived/);
    expect(readProvider(provider).revisions['web-v2']).toBeUndefined();
    expect((await stateOf()).revisions['web-v2'].lifecycle).toBe('archived');
  });

  it('gives up after 3 attempts, reports the revision and exits 1; state stays consistent', async () => {
    await applyAndExpire({ faults: { 'archive:web-v2': { mode: 'transient', count: 3 } } });
    const s = await run(['sweep', 'env.yaml']);
    expect(s.code).toBe(1);
    expect(s.stdout.match(/attempt \d failed \(injected transient failure of archive web-v2\)/g)).toHaveLength(2);
    expect(s.stdout).toMatch(/web\/web-v2: injected transient failure of archive web-v2/);
    expect(s.stdout).toMatch(/Sweep failed: 0 revisions archived, 1 failed/);
    const state = await stateOf();
    expect(state.revisions['web-v2'].lifecycle).toBe('inactive'); // drained; archive is retried next sweep
    expect(state.revisions['web-v2'].last_error).toMatch(/injected transient failure/);
    expect(readProvider(provider).revisions['web-v2']).toMatchObject({ running: false });
  });

  it('takes the lock only when something expired', async () => {
    writeFile(join(t.dir, 'env.yaml'), envWith());
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    const { session, backend } = await holdLock();
    try {
      // Nothing expired yet: the sweep reads state without the lock.
      now = BEFORE_TTL;
      const early = await run(['sweep', 'env.yaml']);
      expect(early.code, early.stderr).toBe(0);
      expect(early.stdout).toMatch(/Nothing to sweep in environment "demo"\./);
      // Past the TTL: the sweep needs the lock, and reports who holds it.
      now = AFTER_TTL;
      const late = await run(['sweep', 'env.yaml']);
      expect(late.code).toBe(1);
      expect(late.stderr).toMatch(/locked by .* \(test holder/);
      expect(readProvider(provider).revisions['web-v2']).toBeDefined();
    } finally {
      await session.release();
      await backend.close();
    }
  });

  it('--watch survives failed passes, never holds the lock while sleeping, never archives a revision with traffic, and exits 0 on SIGTERM', async () => {
    await applyAndExpire();
    const { session, backend } = await holdLock();
    const w = watch(['--watch', '1s']);
    try {
      await waitForOutput(w.child, /locked by/);
    } finally {
      await session.release();
      await backend.close();
    }
    // The next pass finds the lock free and sweeps.
    await waitForOutput(w.child, /Sweep complete: 1 revision archived \(web\/web-v2\)/);
    await waitForOutput(w.child, /Nothing to sweep in environment "demo"; 1 expired revision kept/);
    // Between passes the lock is free: an apply goes through at once.
    const a = await run(['apply', 'env.yaml', '--auto-approve']);
    expect(a.code, a.stderr).toBe(0);
    // One more pass after the apply: it still keeps the revision that carries traffic.
    await waitForOutput(w.child, /Nothing to sweep in environment "demo"; 1 expired revision kept/);
    w.child.kill('SIGTERM');
    const r = await w.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Sweeper stopped\./);
    expect(r.stderr.match(/locked by/g)?.length).toBeGreaterThanOrEqual(1);
    const p = readProvider(provider);
    expect(p.revisions['web-v1']).toMatchObject({ running: true });
    expect(p.splits.web).toEqual([
      { revision_id: 'web-v1', weight_bps: 10000 },
      { revision_id: 'web-v2', weight_bps: 0 },
    ]);
    expect(p.calls.filter((c) => c.key === 'web-v1' && (c.verb === 'drain' || c.verb === 'archive'))).toEqual([]);
    expect((await stateOf()).revisions['web-v1'].lifecycle).toBe('ready');
  });

  it('--watch interrupted while it changes state lets the running step finish, records it and exits 130', async () => {
    await applyAndExpire({ latency: { drain: 3000 } });
    const w = watch(['--watch', '1s']);
    await waitForOutput(w.child, /web\/web-v2: draining\.\.\./);
    w.child.kill('SIGTERM');
    const r = await w.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/web\/web-v2: drained after/);
    expect(r.stdout).toMatch(/Sweep interrupted: 0 revisions archived, 1 failed/);
    expect(r.stdout).not.toMatch(/archiving/);
    expect((await stateOf()).revisions['web-v2'].lifecycle).toBe('inactive');
  });

  it('--watch without a value sweeps every 60s; a too-short interval is refused', async () => {
    writeFile(join(t.dir, 'env.yaml'), envWith());
    const child = spawnBp(['sweep', '--watch', 'env.yaml'], { cwd: t.dir, env: { BP_NOW: now } });
    children.push(child);
    const done = collect(child);
    const out = await waitForOutput(child, /Nothing to sweep/);
    expect(out).toMatch(/Sweeping environment file env\.yaml every 60s/);
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
    const bad = await run(['sweep', 'env.yaml', '--watch', '0.1s']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--watch takes an interval of at least 1s/);
  });
});
