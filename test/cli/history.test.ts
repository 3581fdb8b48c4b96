/** Every apply/destroy appends a history entry (who, CI variables, plan digest, steps, outcome); bp history shows it. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

const t = tempDir('bp-history-');
afterAll(() => t.cleanup());

describe('bp history', () => {
  it('records apply and destroy with the CI actor, bounded by --history-limit', async () => {
    const provider = join(t.dir, 'provider.json');
    const env = writeFile(
      join(t.dir, 'env.yaml'),
      engineEnv({
        envId: 'hist',
        provider,
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      }),
    );
    const ci = {
      BP_STATE_DIR: join(t.dir, 'state'),
      GITHUB_ACTOR: 'octocat',
      GITHUB_SHA: 'deadbeef',
      GITHUB_RUN_ID: '42',
      CI_COMMIT_SHA: '',
    };
    const apply = await bp(['apply', env, '--auto-approve'], { cwd: t.dir, env: ci });
    expect(apply.code).toBe(0);
    const noop = await bp(['apply', env, '--auto-approve'], { cwd: t.dir, env: ci });
    expect(noop.code).toBe(0);
    const shown = await bp(['history', 'hist', '--json'], { cwd: t.dir, env: ci });
    expect(shown.code).toBe(0);
    const { history, format_version } = JSON.parse(shown.stdout);
    expect(format_version).toBe('bp.history/v1');
    // A no-op apply runs no step and records nothing.
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      id: 1,
      operation: 'apply',
      outcome: 'succeeded',
      actor: { ci: { GITHUB_ACTOR: 'octocat', GITHUB_SHA: 'deadbeef', GITHUB_RUN_ID: '42' } },
      splits: { web: [{ revision_id: 'web-v1', weight_bps: 10000 }] },
    });
    expect(history[0].actor.ci).not.toHaveProperty('CI_COMMIT_SHA');
    expect(history[0].plan_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(history[0].steps.total).toBeGreaterThan(0);
    expect(history[0].steps.succeeded).toBe(history[0].steps.total);
    expect(history[0].actor.user.length).toBeGreaterThan(0);

    const destroy = await bp(['destroy', env, '--auto-approve', '--history-limit', '1'], { cwd: t.dir, env: ci });
    expect(destroy.code).toBe(0);
    const text = await bp(['history', 'hist'], { cwd: t.dir, env: ci });
    expect(text.stdout).toMatch(
      /^#2 {2}\S+ {2}destroy +succeeded +\d+\/\d+ steps ok {2}by \S+@\S+ {2}\(GITHUB_ACTOR=octocat GITHUB_SHA=deadbeef GITHUB_RUN_ID=42\)$/m,
    );
    expect(text.stdout).not.toMatch(/^#1 /m);
  });

  it('names an environment without state', async () => {
    const r = await bp(['history', 'nope'], { cwd: t.dir, env: { BP_STATE_DIR: join(t.dir, 'state2') } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/environment "nope" has no recorded state/);
  });
});

describe('bp rollout status --exit-status', () => {
  it('exits 3 for a rolled-back, aborted or halted rollout, 0 for a completed one or without the flag', async () => {
    const { openStateBackend } = await import('../../src/state/index.js');
    const { freshState } = await import('../state/builders.js');
    const stateDir = join(t.dir, 'state-rollout');
    const backend = await openStateBackend({ stateDir });
    const session = await backend.lock('ro', { operation: 'test', timeoutMs: 0 });
    const state = freshState('ro');
    await session.begin(state);
    const split = [{ revision_id: 'web-v1', weight_bps: 10000 }];
    const now = '2026-01-01T00:00:00.000Z';
    const rollout = (status: 'completed' | 'rolled_back') => ({
      canary: 'web-v2',
      stable: split,
      target: split,
      steps: [{ weight_bps: 1000 }],
      on_failure: 'rollback' as const,
      step: 1,
      step_started_at: now,
      pause_until: null,
      measurements: [],
      promoted: null,
      status,
      message: status,
      started_at: now,
      updated_at: now,
    });
    await session.record([
      {
        kind: 'deployment',
        deployment: { deployment_id: 'web', deployer: 'local', listen: null, split, rollout: rollout('completed') },
      },
      {
        kind: 'deployment',
        deployment: { deployment_id: 'api', deployer: 'local', listen: null, split, rollout: rollout('rolled_back') },
      },
    ]);
    await session.release();
    await backend.close();
    const env = { BP_STATE_DIR: stateDir };
    expect((await bp(['rollout', 'status', 'ro', 'web', '--exit-status'], { cwd: t.dir, env })).code).toBe(0);
    expect((await bp(['rollout', 'status', 'ro', 'api', '--exit-status'], { cwd: t.dir, env })).code).toBe(3);
    expect((await bp(['rollout', 'status', 'ro', '--exit-status'], { cwd: t.dir, env })).code).toBe(3);
    expect((await bp(['rollout', 'status', 'ro'], { cwd: t.dir, env })).code).toBe(0);
  });
});

describe('bp state rm', () => {
  it('appends a history entry naming what was forgotten', async () => {
    const provider = join(t.dir, 'provider-rm.json');
    const env = writeFile(
      join(t.dir, 'env-rm.yaml'),
      engineEnv({
        envId: 'histrm',
        provider,
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      }),
    );
    const ci = { BP_STATE_DIR: join(t.dir, 'state-rm'), GITHUB_ACTOR: 'octocat' };
    expect((await bp(['apply', env, '--auto-approve'], { cwd: t.dir, env: ci })).code).toBe(0);
    const rm = await bp(['state', 'rm', 'histrm', 'web', '--force'], { cwd: t.dir, env: ci });
    expect(rm.code, rm.stderr).toBe(0);
    const { history } = JSON.parse((await bp(['history', 'histrm', '--json'], { cwd: t.dir, env: ci })).stdout);
    expect(history.map((h: { operation: string }) => h.operation)).toEqual(['apply', 'state rm']);
    expect(history[1]).toMatchObject({
      id: 2,
      outcome: 'recorded',
      plan_digest: null,
      actor: { ci: { GITHUB_ACTOR: 'octocat' } },
      note: 'forgot web: 1 deployment(s), 1 revision(s); left running unmanaged: web-v1',
    });
  });
});
