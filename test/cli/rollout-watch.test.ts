/**
 * `bp rollout status`: weights as bars, step k of n (1-based on screen and in JSON), a pause's
 * time left computed when shown (BP_NOW, not the recorded message), measurements after the end,
 * and `--watch` following the rollout until it ends, on a pipe (text or JSON lines, each line
 * valid against schemas/rollout-status.schema.json) and on a pseudo-terminal.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutProgress } from '../../src/model/state.js';
import { BP, bp, collect, spawnBp, tempDir } from '../helpers/cli.js';
import { camelKeys, expectValid, ndjson } from '../helpers/schemas.js';
import { screenOf } from '../helpers/screen.js';

const t = tempDir('bp-rollout-watch-');
const stateDir = join(t.dir, 'state');
const env = { BP_STATE_DIR: stateDir };
const T0 = '2026-01-01T00:00:00.000Z';
const split = (v1: number) => [
  { revision_id: 'web-v1', weight_bps: v1 },
  { revision_id: 'web-v2', weight_bps: 10000 - v1 },
];

function rollout(o: Partial<RolloutProgress>): RolloutProgress {
  return {
    canary: 'web-v2',
    stable: split(10000),
    target: split(0),
    steps: [
      { weight_bps: 1000 },
      { analysis: { metric: 'success_rate', min: 0.99, interval: '10s', count: 1, provider: 'router' } },
      { pause: { duration: '10m' } },
    ],
    on_failure: 'rollback',
    step: 2,
    step_started_at: T0,
    pause_until: '2026-01-01T00:10:00.000Z',
    measurements: [
      { at: '2025-12-31T23:59:50.000Z', step: 2, value: 1, verdict: 'pass', detail: 'success_rate 1 >= min 0.99' },
    ],
    promoted: null,
    status: 'paused',
    message: 'paused at step 3/3 until 2026-01-01T00:10:00.000Z (600s left)',
    started_at: T0,
    updated_at: T0,
    ...o,
  };
}

async function record(p: RolloutProgress, weights = split(9000)): Promise<void> {
  const { openStateBackend } = await import('../../src/state/index.js');
  const { freshState } = await import('../state/builders.js');
  const backend = await openStateBackend({ stateDir });
  const session = await backend.lock('ro', { operation: 'test', timeoutMs: 10_000 });
  const existing = await backend.load('ro');
  await session.begin(existing ?? freshState('ro'));
  await session.record([
    {
      kind: 'deployment',
      deployment: { deployment_id: 'web', deployer: 'local', listen: null, split: weights, rollout: p },
    },
  ]);
  await session.release();
  await backend.close();
}

beforeAll(() => record(rollout({})));
afterAll(() => t.cleanup());

describe('bp rollout status', () => {
  it('shows bars, step k of n and the pause time left as of now (BP_NOW), not as recorded', async () => {
    const r = await bp(['rollout', 'status', 'ro', 'web'], {
      cwd: t.dir,
      env: { ...env, BP_NOW: '2026-01-01T00:04:00Z' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('web: rollout of web-v2 paused, step 3 of 3: pause 10m');
    expect(r.stdout).toContain(`  web-v1  ${'█'.repeat(27)}${'░'.repeat(3)}     90%`);
    expect(r.stdout).toContain(`  web-v2  ${'█'.repeat(3)}${'░'.repeat(27)}     10%`);
    expect(r.stdout).toContain('paused until 2026-01-01T00:10:00.000Z (360s left)');
    expect(r.stdout).not.toContain('600s left'); // the recorded message is frozen at record time
    expect(r.stdout).toMatch(
      /analysis measurements \(1\):\n {2}v step 2 2025-12-31T23:59:50.000Z success_rate 1 >= min 0.99/,
    );
    const json = await bp(['rollout', 'status', 'ro', 'web', '--json'], {
      cwd: t.dir,
      env: { ...env, BP_NOW: '2026-01-01T00:09:00Z' },
    });
    const row = (JSON.parse(json.stdout) as { rollouts: Array<Record<string, unknown>> }).rollouts[0]!;
    expect(row).toMatchObject({ step: 3, steps: 3, pause_left_seconds: 60, status: 'paused' });
  });

  it('--watch on a pipe: a block per change, exits when the rollout ends, 3 with --exit-status after an abort', async () => {
    await record(rollout({}));
    const child = spawnBp(['rollout', 'status', 'ro', 'web', '--watch', '--interval', '0.1s', '--exit-status'], {
      cwd: t.dir,
      env: { ...env, BP_NOW: '2026-01-01T00:04:00Z' },
    });
    let seen = '';
    let aborted: Promise<void> | null = null;
    child.stdout!.on('data', (d) => {
      seen += d;
      // Condition, not a sleep: the rollout ends once the watcher has shown it paused.
      if (!aborted && seen.includes('paused until'))
        aborted = record(
          rollout({ status: 'aborted', step: 2, pause_until: null, message: 'aborted by the operator' }),
          split(10000),
        );
    });
    const r = await collect(child);
    await aborted;
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('(360s left)');
    expect(r.stdout).toMatch(/web: rollout of web-v2 aborted, step 3 of 3[^\n]*\n {2}web-v1 {2}█{30} {4}100%/);
    expect(r.stdout.trimEnd().endsWith('aborted by the operator')).toBe(true);
    expect(r.stdout).not.toContain('\u001b');
  });

  it('--watch --json: one schema-valid JSON line per read, ended false until the rollout ends', async () => {
    await record(rollout({}));
    const child = spawnBp(
      ['rollout', 'status', 'ro', 'web', '--watch', '--json', '--interval', '0.1s', '--exit-status'],
      {
        cwd: t.dir,
        env: { ...env, BP_NOW: '2026-01-01T00:04:00Z' },
      },
    );
    let seen = '';
    let ended: Promise<void> | null = null;
    const failed = {
      at: '2026-01-01T00:04:00.000Z',
      step: 2,
      value: 0.5,
      verdict: 'fail' as const,
      detail: 'success_rate 0.5 < min 0.99',
    };
    child.stdout!.on('data', (d) => {
      seen += d;
      // Condition, not a sleep: the rollout ends once the watcher has written two lines.
      if (!ended && seen.split('\n').length > 2)
        ended = record(
          rollout({
            status: 'rolled_back',
            pause_until: null,
            measurements: [...rollout({}).measurements, failed],
            message: 'success_rate 0.5 < min 0.99; web-v1 100% restored',
          }),
          split(10000),
        );
    });
    const r = await collect(child);
    await ended;
    expect(r.code, r.stderr).toBe(3);
    const lines = ndjson(r.stdout);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      expectValid('rollout-status.schema.json', l);
      expect(camelKeys(l)).toEqual([]);
    }
    expect(lines.map((l) => l.ended)).toEqual([...Array<boolean>(lines.length - 1).fill(false), true]);
    expect(lines[0]).toMatchObject({
      format_version: 'bp.rollout-status/v1',
      environment_id: 'ro',
      rollouts: [{ deployment_id: 'web', status: 'paused', step: 3, steps: 3, pause_left_seconds: 360 }],
    });
    expect(lines.at(-1)).toMatchObject({
      rollouts: [{ status: 'rolled_back', pause_left_seconds: null, measurements: [{ verdict: 'pass' }, failed] }],
    });
  });

  it('--watch on a terminal: redrawn in place; the final screen shows the completed rollout once, with its measurements', async () => {
    await record(rollout({}));
    const cmd = [process.execPath, BP, 'rollout', 'status', 'ro', 'web', '--watch', '--interval', '0.1s']
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-qefc', `stty cols 120 rows 40; ${cmd}`, '/dev/null'], {
      cwd: t.dir,
      env: { ...process.env, ...env, NO_COLOR: '1', TERM: 'xterm', BP_NOW: '2026-01-01T00:04:00Z' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let done: Promise<void> | null = null;
    child.stdout.on('data', (d) => {
      out += d;
      if (!done && out.includes('left)'))
        done = record(
          rollout({ status: 'completed', step: 3, pause_until: null, message: 'reached web-v2 100%' }),
          split(0),
        );
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    await done;
    expect(code).toBe(0);
    expect(out).toContain('\u001b[2K');
    const screen = screenOf(out).filter((l) => !l.startsWith('stty'));
    expect(screen.filter((l) => l.startsWith('web: rollout of'))).toEqual(['web: rollout of web-v2 completed']);
    expect(screen).toContain(`  web-v2  ${'█'.repeat(30)}    100%`);
    expect(screen).toContain('  analysis measurements (1):');
    expect(screen.at(-1)).toBe('  reached web-v2 100%');
  });
});
