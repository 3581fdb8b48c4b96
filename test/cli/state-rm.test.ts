/** `bp state rm`: forget recorded state under the lock, and start an environment over after destroy. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forget } from '../../src/plan/forget.js';
import { bp, engineEnv, readProvider, tempDir, writeFile } from '../helpers/cli.js';
import { env, dep, NOW, recorded, rev, split } from '../plan/builders.js';

describe('forget (pure)', () => {
  const desired = env([
    dep('web', [rev('v1'), rev('v2')], split(['v1', 10000])),
    dep('api', [rev('a1')], split(['a1', 10000]), { listen: '127.0.0.1:8081' }),
  ]);
  const s = recorded(desired, {
    lifecycles: { v1: 'ready', v2: 'archived', a1: 'archived' },
    splits: { web: split(['v1', 10000]) },
  });
  it.each<[string | undefined, string[], string[], string[]]>([
    [undefined, ['api', 'web'], ['a1', 'v1', 'v2'], ['v1']],
    ['web', ['web'], ['v1', 'v2'], ['v1']],
    ['v2', [], ['v2'], []],
    ['a1', [], ['a1'], []],
  ])('forget %s', (target, deployments, revisions, live) => {
    const r = forget(s, target, NOW);
    expect([r.deployments, r.revisions, r.live]).toEqual([deployments, revisions, live]);
    for (const id of revisions) expect(r.state.revisions[id]).toBeUndefined();
    for (const id of deployments) expect(r.state.deployments[id]).toBeUndefined();
    expect(s.revisions[revisions[0]!]).toBeDefined(); // input untouched
  });
  it('names what it does not know', () => {
    expect(() => forget(s, 'nope', NOW)).toThrow('environment "demo" records no deployment or revision "nope"');
  });
});

describe('bp state rm', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
    writeFile(
      join(t.dir, 'env.yaml'),
      engineEnv({
        provider: join(t.dir, 'provider.json'),
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      }),
    );
  });
  afterEach(() => t.cleanup());

  it('starts an environment over after destroy; refuses live revisions without --force', async () => {
    expect((await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir })).code).toBe(0);
    const refused = await bp(['state', 'rm', 'demo'], { cwd: t.dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refusing to forget revisions that may still run: web-v1 (not archived)');
    expect((await bp(['destroy', 'env.yaml', '--auto-approve'], { cwd: t.dir })).code).toBe(0);
    // Archived is final: the same file cannot come back...
    const stuck = await bp(['plan', 'env.yaml'], { cwd: t.dir });
    expect(stuck.stderr).toContain('archived, which is final');
    // ...until the records are forgotten.
    const rm = await bp(['state', 'rm', 'demo'], { cwd: t.dir });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('Forgot everything recorded for environment "demo": 1 deployment(s), 1 revision(s).');
    const again = await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir });
    expect(again.code).toBe(0);
    expect(readProvider(join(t.dir, 'provider.json')).splits.web).toEqual([
      { revision_id: 'web-v1', weight_bps: 10000 },
    ]);
  });

  it('names what it cannot forget', async () => {
    expect((await bp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir })).code).toBe(0);
    const missing = await bp(['state', 'rm', 'demo', 'web-v9'], { cwd: t.dir });
    expect(missing.stderr).toContain('records no deployment or revision "web-v9"');
    const none = await bp(['state', 'rm', 'other'], { cwd: t.dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('environment "other" has no recorded state');
  });
});
