/**
 * A misbehaving plugin can fail its step, never end bp's run early with exit 0, print a raw
 * stack, keep the lock or keep bp alive. Each fixture in test/fixtures/broken-deployers/faults
 * breaks one rule; the real bin/bp runs it against a real env file.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bp, ROOT, tempDir, writeFile } from '../helpers/cli.js';

const FAULTS = join(ROOT, 'test/fixtures/broken-deployers/faults');
let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('bp-plugin-faults-')));
afterEach(() => t.cleanup());

function envUsing(fixture: string): string {
  const file = join(t.dir, 'env.yaml');
  writeFile(
    file,
    [
      'schema: bp.environment/v1',
      'environment_id: demo',
      'deployers:',
      `  mem: { type: ${JSON.stringify(join(FAULTS, fixture))}, config: { file: provider.json } }`,
      'deployments:',
      '  - deployment_id: web',
      '    deployer: mem',
      '    revisions:',
      '      - revision_id: web-v1',
      '        artifact: { command: [node, server.js] }',
      '    traffic:',
      '      - { revision_id: web-v1, weight_bps: 10000 }',
      '',
    ].join('\n'),
  );
  return file;
}

const apply = (file: string) =>
  bp(['apply', file, '--auto-approve', '--retries', '1', '--step-timeout', '20s'], { cwd: t.dir });

/** The lock is free: a plan (which takes no lock) and a second apply (which does) both get past it. */
async function expectLockFree(file: string): Promise<void> {
  const again = await apply(file);
  expect(again.stderr).not.toMatch(/lock(ed)? (is )?held|is locked/i);
}

function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe('plugin faults are contained', () => {
  it('process.exit(0) inside warm fails the step, not the run with exit 0', async () => {
    const file = envUsing('exits.mjs');
    const r = await apply(file);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/called process\.exit\(0\)/);
    expectNoStack(r.stderr);
    await expectLockFree(file);
  });

  it('process.exit(0) from a plugin timer fails the run, not exits 0', async () => {
    const file = envUsing('timer-exit.mjs');
    const r = await apply(file);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/called process\.exit\(0\)/);
    expectNoStack(r.stderr);
    await expectLockFree(file);
  });

  it('an unhandled rejection is one sentence and a failed step, not a raw stack', async () => {
    const file = envUsing('async-throw.mjs');
    const r = await apply(file);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/promise rejected with no handler: background refresh failed/);
    expectNoStack(r.stderr);
    await expectLockFree(file);
  });

  it('a warm that returns a string is a failed step', async () => {
    const r = await apply(envUsing('warm-string.mjs'));
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(
      /warm of warm:web\/web-v1 returned a string \("warmed"\), not a WarmResult object/,
    );
  });

  it('a split reported for another deployment with an invented revision is a failed step naming the difference', async () => {
    const r = await apply(envUsing('wrong-split.mjs'));
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/split applied to deployment "someone-else", not "web"/);
  });

  it('bp exits when the run ends even though the plugin left an interval running', async () => {
    const r = await apply(envUsing('leaves-timer.mjs'));
    // Without the guard this never returns (the test times out).
    expect(r.code).toBe(0);
  }, 60_000);
});
