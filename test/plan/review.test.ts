/**
 * Reviewable plans: update steps for mutable settings (recorded), replacing a revision that
 * never reached ready, and refusing (with old -> new) to change one that did.
 */
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/model/errors.js';
import type { LifecycleState } from '../../src/model/state.js';
import { plan } from '../../src/plan/index.js';
import { deploysOf, maskedEnv, neverReady, settingChanges, specChanges } from '../../src/plan/review.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';
import { simulate } from './simulate.js';

const v1 = rev('v1', {
  artifact: { command: ['node', 'app/server.js'], env: { GREETING: 'hello', DB_PASSWORD: 'pw' } },
});
const base = env([dep('web', [v1], split(['v1', 10000]))]);

function withV1(patch: (r: typeof v1) => void) {
  const desired = structuredClone(base);
  patch(desired.deployments[0].revisions[0]);
  return desired;
}

describe('review helpers', () => {
  it('masks env values whose names say secret', () => {
    expect(maskedEnv({ GREETING: 'hi', API_KEY: 'k', db_password: 'p', AUTH_TOKEN: '${env:T}' })).toEqual({
      API_KEY: '(sensitive)',
      AUTH_TOKEN: '(sensitive)',
      GREETING: 'hi',
      db_password: '(sensitive)',
    });
  });

  it('says what a stage deploys', () => {
    expect(deploysOf(v1)).toEqual({
      command: ['node', 'app/server.js'],
      env: { DB_PASSWORD: '(sensitive)', GREETING: 'hello' },
      resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
      health: { http_path: '/healthz', timeout_seconds: 30 },
      drain_seconds: 5,
      ttl: null,
    });
  });

  it.each<[LifecycleState, string | null, string | null, boolean]>([
    ['failed', null, null, true],
    ['staged', null, null, true],
    ['warming', null, null, true],
    ['ready', null, 'http://x', false],
    ['failed', '2025-03-01T00:00:00.000Z', null, false], // was ready once (drift made it failed)
    ['failed', null, 'http://x', false], // older state: an endpoint means it ran
    ['inactive', null, null, false],
  ])('neverReady(%s, ready_at=%s, endpoint=%s) = %s', (lifecycle, readyAt, endpoint, want) => {
    const s = recorded(base, { lifecycles: { v1: lifecycle }, revisions: { v1: { ready_at: readyAt, endpoint } } });
    expect(neverReady(s.revisions.v1!)).toBe(want);
  });

  it('separates immutable spec changes from settings', () => {
    const s = recorded(base, { lifecycles: { v1: 'ready' } });
    const d = withV1((r) => {
      r.health.timeout_seconds = 5;
      r.drain_seconds = 9;
      r.artifact.env.DB_PASSWORD = 'new';
    }).deployments[0].revisions[0];
    expect(
      specChanges(s.revisions.v1!.spec!, { artifact: d.artifact, resources: d.resources, health: d.health }),
    ).toEqual([{ field: 'artifact.env.DB_PASSWORD', old: '(sensitive)', new: '(sensitive)' }]);
    expect(settingChanges(s.revisions.v1!, d)).toEqual([
      { field: 'drain_seconds', old: 5, new: 9 },
      { field: 'health.timeout_seconds', old: 30, new: 5 },
    ]);
  });
});

describe('update steps', () => {
  it('drain_seconds 5 -> 9 on a ready revision is an update step, recorded, then no changes', () => {
    const state = recorded(base, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    const desired = withV1((r) => {
      r.drain_seconds = 9;
      r.ttl = '2h';
    });
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p.steps.map((s) => s.id)).toEqual(['update:web/v1']);
    expect(p.steps[0]!.changes).toEqual([
      { field: 'drain_seconds', old: 5, new: 9 },
      { field: 'ttl', old: null, new: '2h' },
    ]);
    const after = simulate(p, desired, state, { now: NOW }).state;
    expect(after.revisions.v1).toMatchObject({ drain_seconds: 9, ttl: '2h', lifecycle: 'ready' });
    expect(plan({ desired, recorded: after, now: NOW }).changes).toBe(false);
  });

  it('a health timeout change is recorded into the spec', () => {
    const state = recorded(base, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    const desired = withV1((r) => (r.health.timeout_seconds = 120));
    const after = simulate(plan({ desired, recorded: state, now: NOW }), desired, state, { now: NOW }).state;
    expect(after.revisions.v1!.spec!.health).toEqual({ http_path: '/healthz', timeout_seconds: 120 });
  });

  it('no update step for a revision being archived or restaged', () => {
    const archived = withV1((r) => {
      r.drain_seconds = 9;
      r.state = 'archived';
    });
    archived.deployments[0].traffic = [];
    const state = recorded(base, { lifecycles: { v1: 'inactive' }, revisions: { v1: { spec: null } } });
    expect(plan({ desired: archived, recorded: state, now: NOW }).steps.map((s) => s.verb)).not.toContain('update');
  });
});

describe('replacing a revision that never reached ready', () => {
  it.each<LifecycleState>(['failed', 'staged', 'warming'])('from %s: staged again with the new spec', (lifecycle) => {
    const state = recorded(base, { lifecycles: { v1: lifecycle }, revisions: { v1: { last_error: 'exit 127' } } });
    const desired = withV1((r) => (r.artifact.command = ['node', 'app/server.mjs']));
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p.steps.map((s) => s.id)).toEqual(['stage:web/v1', 'warm:web/v1', 'split:web']);
    const stage = p.steps[0]!;
    expect(stage.from).toBe('failed');
    expect(stage.reason).toBe('replace: changed before it ever was ready');
    expect(stage.changes).toEqual([
      { field: 'artifact.command', old: ['node', 'app/server.js'], new: ['node', 'app/server.mjs'] },
    ]);
    const sim = simulate(p, desired, state, { now: NOW });
    expect(sim.guardViolations).toEqual([]);
    expect(sim.state.revisions.v1!.spec!.artifact.command).toEqual(['node', 'app/server.mjs']);
    expect(sim.state.revisions.v1!.ready_at).toBe(NOW.toISOString());
    // Ready now: the next change is refused.
    const again = withV1((r) => (r.artifact.command = ['node', 'other.mjs']));
    expect(() => plan({ desired: again, recorded: sim.state, now: NOW })).toThrow(PlanError);
  });

  it('a revision that was ready once stays immutable even when failed now', () => {
    const state = recorded(base, {
      lifecycles: { v1: 'failed' },
      revisions: { v1: { ready_at: '2025-03-01T00:00:00.000Z' } },
    });
    const desired = withV1((r) => (r.resources.replicas = 4));
    expect(() => plan({ desired, recorded: state, now: NOW })).toThrow(
      /resources\.replicas: 1 -> 4, but it has been ready/,
    );
  });
});
