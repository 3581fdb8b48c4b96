/**
 * Reviewable plans end to end: a settings change is an update step that apply records; a
 * revision whose warm failed can be corrected in place; a ready one cannot, and the message
 * points at the line with old -> new.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let provider: string;
beforeEach(() => {
  t = tempDir();
  provider = join(t.dir, 'provider.json');
});
afterEach(() => t.cleanup());

function envFile(opts: { env?: Record<string, string>; faults?: Record<string, unknown> } = {}): string {
  return engineEnv({
    provider,
    deployerConfig: opts.faults ? { faults: opts.faults } : {},
    deployments: [{ id: 'web', revisions: [{ id: 'web-v1', env: opts.env }], traffic: [['web-v1', 10000]] }],
  });
}

async function recordedRevision(): Promise<Record<string, unknown>> {
  const r = await bp(['state', 'show', 'demo', '--json'], { cwd: t.dir });
  return JSON.parse(r.stdout).revisions['web-v1'];
}

describe('reviewable plans', () => {
  it('drain_seconds 0 -> 9 is an update step, recorded by apply', async () => {
    writeFile(join(t.dir, 'env.yaml'), envFile());
    expect((await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir })).code).toBe(0);
    writeFile(join(t.dir, 'env.yaml'), envFile().replace('drain_seconds: 0', 'drain_seconds: 9\n        ttl: 2h'));
    const p = await bp(['plan', 'env.yaml'], { cwd: t.dir });
    expect(p.stdout).toContain(
      '  ~ update  web/web-v1\n            drain_seconds: 0 -> 9\n            ttl: (none) -> "2h"\n',
    );
    const a = await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir });
    expect(a.stdout).toContain('web/web-v1: updated');
    expect(await recordedRevision()).toMatchObject({ drain_seconds: 9, ttl: '2h', lifecycle: 'ready' });
    expect((await bp(['plan', 'env.yaml'], { cwd: t.dir })).stdout).toContain('No changes.');
  });

  it('a revision whose warm failed is corrected in place', async () => {
    writeFile(
      join(t.dir, 'env.yaml'),
      envFile({ env: { V: 'typo' }, faults: { 'warm:web-v1': { mode: 'permanent' } } }),
    );
    expect((await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir })).code).toBe(1);
    expect(await recordedRevision()).toMatchObject({ lifecycle: 'failed' });
    writeFile(join(t.dir, 'env.yaml'), envFile({ env: { V: 'fixed' } }));
    const p = await bp(['plan', 'env.yaml'], { cwd: t.dir });
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('+ stage   web/web-v1 (replace: changed before it ever was ready)');
    expect(p.stdout).toContain('artifact.env.V: "typo" -> "fixed"');
    expect((await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir })).code).toBe(0);
    expect(await recordedRevision()).toMatchObject({ lifecycle: 'ready', spec: { artifact: { env: { V: 'fixed' } } } });
  });

  it('a ready revision stays immutable: the message names file:line, field, old and new', async () => {
    writeFile(join(t.dir, 'env.yaml'), envFile({ env: { V: 'one' } }));
    expect((await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir })).code).toBe(0);
    writeFile(join(t.dir, 'env.yaml'), envFile({ env: { V: 'two' } }));
    const p = await bp(['plan', 'env.yaml'], { cwd: t.dir });
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(
      /\nError: env\.yaml:\d+:\d+: revision "web-v1" changed artifact\.env\.V: "one" -> "two", but it has been ready/,
    );
  });
});
