/**
 * Injected deployer faults against the executor, through the real CLI and the engine-test
 * deployer: random transient errors at 10-50%, permanent errors, hangs past the verb
 * timeout, slow verbs, and bp killed mid-verb. Each run ends converged or with a precise
 * failure report; independent deployments complete; recorded state says exactly what the
 * provider runs; the next apply finishes the job.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, readProvider, spawnBp } from '../helpers/cli.js';
import { expectNextApplyFinishes, expectStateMatchesProvider, revisionIds, sandbox, type Sandbox } from './support.js';

let sb: Sandbox | undefined;
afterEach(() => sb?.cleanup());

/** Step lines of a failed apply: `d1/d1-a: warm failed ...`; the summary counts them. */
function summary(stdout: string): { succeeded: number; failed: number; skipped: number } | null {
  const m = /Apply (?:complete|failed): (\d+) succeeded, (\d+) failed, (\d+) skipped/.exec(stdout);
  return m ? { succeeded: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) } : null;
}

describe('random transient provider errors', () => {
  it.each([0.1, 0.3, 0.5])(
    'at rate %s: converged or a precise failure report, state true to the provider, next apply finishes',
    async (rate) => {
      sb = sandbox(3);
      const ids = revisionIds(3);
      sb.writeEnv({ transient_rate: rate, seed: Math.round(rate * 1000) });
      const a = await sb.run(['apply', 'env.yaml', '--auto-approve', '--parallelism', '3', '--retries', '6']);
      const s = summary(a.stdout);
      expect(s, a.stdout + a.stderr).not.toBeNull();
      expect(a.stderr).not.toMatch(/^\s+at /m);
      expect(s!.succeeded + s!.failed + s!.skipped).toBeLessThanOrEqual(15);
      if (a.code === 0) {
        expect(s).toEqual({ succeeded: 15, failed: 0, skipped: 0 });
      } else {
        expect(a.code).toBe(1);
        // Every failure names its step and the injected cause.
        const failures = a.stdout.match(/^d\d\/d\d-[ab]: \w+ failed.*injected random transient failure/gm) ?? [];
        const splitFailures =
          a.stdout.match(/^d\d: apply_traffic_split failed.*injected random transient failure/gm) ?? [];
        expect(failures.length + splitFailures.length).toBe(s!.failed);
      }
      if (rate > 0) expect(a.stdout).toMatch(/attempt \d failed/);
      await expectStateMatchesProvider(sb, ids);
      await expectNextApplyFinishes(sb, ids);
    },
  );
});

describe('permanent errors, hangs and slow verbs', () => {
  it('a permanent error fails its chain only: independent deployments complete and the next apply finishes', async () => {
    sb = sandbox(3);
    const ids = revisionIds(3);
    sb.writeEnv({ faults: { 'warm:d1-b': { mode: 'permanent' } } });
    const a = await sb.run(['apply', 'env.yaml', '--auto-approve', '--retries', '3']);
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/^d1\/d1-b: warm failed.*injected permanent failure of warm d1-b/m);
    expect(a.stdout).not.toMatch(/d1-b: attempt \d failed/); // permanent: not retried
    expect(a.stdout).toMatch(/^d1: apply_traffic_split skipped because warm:d1\/d1-b failed/m);
    expect(summary(a.stdout)).toEqual({ succeeded: 13, failed: 1, skipped: 1 });
    const p = readProvider(sb.provider);
    expect(Object.keys(p.splits).sort()).toEqual(['d0', 'd2']);
    const state = await expectStateMatchesProvider(sb, ids);
    expect(state.revisions['d1-b'].lifecycle).toBe('failed');
    expect(state.revisions['d1-b'].last_error).toMatch(/injected permanent failure/);
    await expectNextApplyFinishes(sb, ids);
  });

  it('a verb hanging past --step-timeout is stopped and reported; the rest completes', async () => {
    sb = sandbox(2);
    const ids = revisionIds(2);
    sb.writeEnv({ faults: { 'stage:d0-a': { mode: 'hang' }, 'warm:d1-b': { mode: 'hang' } } });
    const started = Date.now();
    const a = await sb.run(['apply', 'env.yaml', '--auto-approve', '--step-timeout', '1s', '--retries', '2']);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/^d0\/d0-a: stage failed .*did not finish within 1s/m);
    expect(a.stdout).toMatch(/^d1\/d1-b: warm failed .*did not finish within 1s/m);
    expect(summary(a.stdout)).toEqual({ succeeded: 5, failed: 2, skipped: 3 });
    await expectStateMatchesProvider(sb, ids);
    await expectNextApplyFinishes(sb, ids);
  });

  it('slow verbs on independent deployments run in parallel', async () => {
    sb = sandbox(4);
    const ids = revisionIds(4);
    sb.writeEnv({ latency: { warm: 2500 } });
    const started = Date.now();
    const a = await sb.run(['apply', 'env.yaml', '--auto-approve', '--parallelism', '8']);
    const elapsed = Date.now() - started;
    expect(a.code, a.stdout + a.stderr).toBe(0);
    // 8 warms of 2.5 s each: 20 s one after another, ~2.5 s side by side (plus start-up).
    expect(elapsed).toBeLessThan(12_000);
    await expectStateMatchesProvider(sb, ids);
  });
});

describe('bp killed mid-verb', () => {
  it('kill -9 while verbs are in flight: the next apply converges without starting anything twice', async () => {
    sb = sandbox(2);
    const ids = revisionIds(2);
    sb.writeEnv({ latency: { warm: 3000 } });
    const child = spawnBp(['apply', 'env.yaml', '--auto-approve', '--parallelism', '4'], { cwd: sb.dir });
    const done = collect(child);
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += String(d);
        if (/warming/.test(out)) resolve();
      });
      child.on('close', () => resolve());
    });
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const state = await sb.state();
    // The verbs in flight are visible as pending operations, not silently lost.
    expect(Object.keys(state.pending).length).toBeGreaterThan(0);
    await expectNextApplyFinishes(sb, ids);
  });
});
