/**
 * A deployment's rollout strategy and the environment's notifications are settings bp records:
 * a change is an `update` step with old -> new per field, applying it records the new value,
 * and the next plan has no changes. A rollout in progress keeps the steps it began with.
 */
import { describe, expect, it } from 'vitest';
import type { Notification, Rollout, RolloutStep } from '../../src/model/environment.js';
import { plan } from '../../src/plan/index.js';
import { checkSavedPlan, withDigest } from '../../src/plan/saved-plan.js';
import { recordedNotification, recordedUrl } from '../../src/plan/settings.js';
import { dep, env, NOW, recorded, rev, rolloutProgress, split } from './builders.js';
import { simulate } from './simulate.js';

const STEPS: RolloutStep[] = [{ weight_bps: 1000 }, { pause: { duration: '2m' } }];
const ROLLOUT: Rollout = { steps: STEPS, on_failure: 'rollback' };
const HOOK: Notification = {
  url: 'https://hooks.example.com/${env:HOOK_PATH}',
  events: ['*'],
  secret: '${env:HOOK_SECRET}',
};

const withRollout = (rollout: Rollout | null, traffic = split(['v1', 10000])) =>
  env([dep('web', [rev('v1'), rev('v2', { state: 'inactive' })], traffic, { rollout })]);
const readyV1 = (desired: ReturnType<typeof withRollout>) =>
  recorded(desired, { lifecycles: { v1: 'ready', v2: 'inactive' }, splits: { web: split(['v1', 10000]) } });

/** Plans, applies (simulated), and says the next plan of the same file has nothing to do. */
function applyThenReplan(desired: ReturnType<typeof env>, state: ReturnType<typeof recorded> | null) {
  const p = plan({ desired, recorded: state, now: NOW });
  const sim = simulate(p, desired, state, { now: NOW });
  expect(sim.failed).toEqual([]);
  const again = plan({ desired, recorded: sim.state, now: NOW });
  expect(again.steps.map((s) => s.id)).toEqual([]);
  return { p, after: sim.state };
}

describe('recordedUrl: what state keeps of a webhook URL', () => {
  it.each([
    ['a reference', '${env:HOOK_URL}', '${env:HOOK_URL}'],
    ['an origin', 'https://hooks.example.com', 'https://hooks.example.com'],
    ['an origin and /', 'https://hooks.example.com/', 'https://hooks.example.com/'],
    [
      'a path that is a reference',
      'https://hooks.example.com/${env:HOOK_PATH}',
      'https://hooks.example.com/${env:HOOK_PATH}',
    ],
  ])('keeps %s as written', (_what, url, want) => {
    expect(recordedUrl(url)).toBe(want);
  });

  it.each([
    ['a literal path', 'https://hooks.slack.com/services/T0/B0/s3cr3tt0k3n'],
    ['a query', 'https://hooks.example.com?token=s3cr3tt0k3n'],
    ['a user part', 'https://bp:s3cr3tt0k3n@hooks.example.com/'],
  ])('masks %s, keeping the origin and a fingerprint', (_what, url) => {
    const kept = recordedUrl(url);
    expect(kept).toMatch(/^https:\/\/hooks\.(slack|example)\.com\/… \(sha256:[0-9a-f]{12}\)$/);
    expect(kept).not.toContain('s3cr3tt0k3n');
  });

  it('a changed token changes the fingerprint, never shows it', () => {
    const a = recordedUrl('https://hooks.slack.com/services/T0/B0/aaaaaaaaaaaa');
    const b = recordedUrl('https://hooks.slack.com/services/T0/B0/bbbbbbbbbbbb');
    expect(a).not.toBe(b);
    expect(recordedUrl('https://hooks.slack.com/services/T0/B0/aaaaaaaaaaaa')).toBe(a);
  });

  it('masks a literal secret (an environment built in code skips validation, which refuses one)', () => {
    const kept = recordedNotification({ url: 'https://h.example.com', events: ['*'], secret: 'hunter2-literal' });
    expect(kept.secret).toMatch(/^\(sensitive, sha256:[0-9a-f]{12}\)$/);
  });

  it('keeps the secret reference and the events as written', () => {
    expect(recordedNotification(HOOK)).toEqual(HOOK);
    expect(recordedNotification({ url: 'https://h.example.com', events: ['step.*'] })).toEqual({
      url: 'https://h.example.com',
      events: ['step.*'],
    });
  });
});

describe('rollout strategy update steps', () => {
  it.each<[string, Rollout | null, Rollout | null, Array<{ field: string; old: unknown; new: unknown }>]>([
    [
      'a pause made longer',
      ROLLOUT,
      { ...ROLLOUT, steps: [{ weight_bps: 1000 }, { pause: { duration: '5m' } }] },
      [{ field: 'rollout.steps[1].pause.duration', old: '2m', new: '5m' }],
    ],
    [
      'a step added and on_failure changed',
      ROLLOUT,
      { steps: [...STEPS, { weight_bps: 5000 }], on_failure: 'pause' },
      [
        { field: 'rollout.on_failure', old: 'rollback', new: 'pause' },
        { field: 'rollout.steps[2]', old: null, new: { weight_bps: 5000 } },
      ],
    ],
    ['a strategy declared', null, ROLLOUT, [{ field: 'rollout', old: null, new: ROLLOUT }]],
    ['a strategy removed', ROLLOUT, null, [{ field: 'rollout', old: ROLLOUT, new: null }]],
  ])('%s: one update step with old -> new, recorded, then no changes', (_name, was, now, changes) => {
    const state = readyV1(withRollout(was));
    const desired = withRollout(now);
    const { p, after } = applyThenReplan(desired, state);
    expect(p.steps.map((s) => s.id)).toEqual(['update:web']);
    expect(p.steps[0]).toMatchObject({ verb: 'update', deployment_id: 'web', revision_id: null, depends_on: [] });
    expect(p.steps[0]!.changes).toEqual(changes);
    expect(p.summary.update).toBe(1);
    expect(after.deployments.web!.rollout_strategy).toEqual(now);
  });

  it('state written before the strategy was recorded: the first plan records it', () => {
    const state = readyV1(withRollout(ROLLOUT));
    delete state.deployments.web!.rollout_strategy;
    const { p } = applyThenReplan(withRollout(ROLLOUT), state);
    expect(p.steps.map((s) => [s.id, s.changes])).toEqual([
      ['update:web', [{ field: 'rollout', old: null, new: ROLLOUT }]],
    ]);
  });

  it('a new deployment records its strategy with its first step: no update step', () => {
    const desired = withRollout(ROLLOUT);
    const { p, after } = applyThenReplan(desired, null);
    expect(p.steps.map((s) => s.verb)).not.toContain('update');
    expect(after.deployments.web!.rollout_strategy).toEqual(ROLLOUT);
  });

  it('a rollout in progress keeps the steps it began with; the next rollout walks the new ones', () => {
    const desired = withRollout(ROLLOUT, split(['v2', 10000]));
    desired.deployments[0]!.revisions[1]!.state = 'ready';
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 9000], ['v2', 1000]) },
    });
    const running = rolloutProgress(STEPS, { step: 1, status: 'paused', pause_until: '2025-03-01T12:02:00.000Z' });
    state.deployments.web!.rollout = running;
    const longer: Rollout = { steps: [{ weight_bps: 1000 }, { pause: { duration: '1h' } }], on_failure: 'rollback' };
    desired.deployments[0]!.rollout = longer;
    const p = plan({ desired, recorded: state, now: NOW });
    const update = p.steps.find((s) => s.id === 'update:web')!;
    expect(update.changes).toEqual([{ field: 'rollout.steps[1].pause.duration', old: '2m', new: '1h' }]);
    expect(update.note).toBe(
      'the rollout of v2 in progress keeps the 2 steps it began with; the new strategy applies from the next rollout',
    );
    // The split step goes on with the recorded steps, not the file's new ones.
    expect(p.steps.find((s) => s.id === 'split:web')!.rollout).toMatchObject({ begins: false, steps: STEPS });
    const after = simulate(p, desired, state, { now: NOW }).state;
    expect(after.deployments.web!.rollout_strategy).toEqual(longer);
    expect(after.deployments.web!.rollout!.steps).toEqual(STEPS);
  });

  it('no update step in a destroy plan', () => {
    const state = readyV1(withRollout(ROLLOUT));
    const p = plan({ desired: withRollout(null), recorded: state, now: NOW, destroy: true });
    expect(p.steps.map((s) => s.verb)).not.toContain('update');
  });
});

describe('notifications update step', () => {
  it('a new webhook: update:@environment first, masked, recorded, then no changes', () => {
    const desired = env([dep('web', [rev('v1')], split(['v1', 10000]))], { notifications: [HOOK] });
    const { p, after } = applyThenReplan(desired, null);
    expect(p.steps[0]).toMatchObject({
      id: 'update:@environment',
      verb: 'update',
      deployment_id: '',
      revision_id: null,
      changes: [{ field: 'notifications[0]', old: null, new: recordedNotification(HOOK) }],
    });
    expect(after.notifications).toEqual([recordedNotification(HOOK)]);
  });

  it('changed events and a changed literal URL token show field by field, never the token', () => {
    const was: Notification = { url: 'https://hooks.slack.com/services/T0/B0/aaaaaaaaaaaa', events: ['*'] };
    const now: Notification = { url: 'https://hooks.slack.com/services/T0/B0/bbbbbbbbbbbb', events: ['step.*'] };
    const base = env([dep('web', [rev('v1')], split(['v1', 10000]))]);
    const state = recorded(base, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    state.notifications = [recordedNotification(was)];
    const desired = { ...base, notifications: [now, HOOK] };
    const { p, after } = applyThenReplan(desired, state);
    expect(p.steps.map((s) => s.id)).toEqual(['update:@environment']);
    expect(p.steps[0]!.changes).toEqual([
      { field: 'notifications[0].events', old: ['*'], new: ['step.*'] },
      { field: 'notifications[0].url', old: recordedUrl(was.url), new: recordedUrl(now.url) },
      { field: 'notifications[1]', old: null, new: recordedNotification(HOOK) },
    ]);
    expect(JSON.stringify(p)).not.toMatch(/aaaaaaaaaaaa|bbbbbbbbbbbb/);
    expect(JSON.stringify(after)).not.toMatch(/aaaaaaaaaaaa|bbbbbbbbbbbb/);
  });

  it('webhooks removed: recorded as none', () => {
    const base = env([dep('web', [rev('v1')], split(['v1', 10000]))]);
    const state = recorded(base, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    state.notifications = [recordedNotification(HOOK)];
    const { p, after } = applyThenReplan(base, state);
    expect(p.steps[0]!.changes).toEqual([{ field: 'notifications[0]', old: recordedNotification(HOOK), new: null }]);
    expect(after.notifications).toEqual([]);
  });

  it('not in a --target plan (it is no deployment) nor in a destroy plan', () => {
    const desired = env([dep('web', [rev('v1')], split(['v1', 10000]))], { notifications: [HOOK] });
    expect(plan({ desired, recorded: null, now: NOW, targets: ['web'] }).steps.map((s) => s.verb)).not.toContain(
      'update',
    );
    const state = recorded(desired, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    expect(plan({ desired, recorded: state, now: NOW, destroy: true }).steps.map((s) => s.verb)).not.toContain(
      'update',
    );
  });

  it('a saved plan with settings update steps passes the saved-plan checks', () => {
    const desired = env([dep('web', [rev('v1')], split(['v1', 10000]), { rollout: ROLLOUT })], {
      notifications: [HOOK],
    });
    const state = recorded(withRollout(null), { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p.steps.map((s) => s.id)).toEqual(['update:@environment', 'update:web']);
    const file = withDigest({
      format_version: 'bp.planfile/v1',
      created_at: NOW.toISOString(),
      source_file: '/srv/env.yaml',
      desired,
      plan: p,
    });
    expect(checkSavedPlan(JSON.parse(JSON.stringify(file)), 'plan.json').plan).toEqual(p);
  });
});
