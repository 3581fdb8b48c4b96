import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rollout, RolloutStep } from '../../src/model/environment.js';
import type { RolloutProgress } from '../../src/model/state.js';
import { plan } from '../../src/plan/index.js';
import { canaryOf, decideRollout, hasIntermediateWork, intermediateSplit, nextAction } from '../../src/plan/rollout.js';
import { dep, env, NOW, recorded, rev, rolloutProgress, split } from './builders.js';

const STEPS: RolloutStep[] = [
  { weight_bps: 1000 },
  { pause: { duration: '2m' } },
  { analysis: { metric: 'success_rate', min: 0.99, interval: '30s', count: 2, provider: 'router' } },
  { weight_bps: 5000 },
  { pause: {} },
];
const ROLLOUT: Rollout = { steps: STEPS, on_failure: 'rollback' };

function progress(o: Partial<RolloutProgress> = {}): RolloutProgress {
  return rolloutProgress(STEPS, o);
}

describe('canaryOf', () => {
  it.each([
    ['one revision gains weight', split(['v1', 10000]), split(['v1', 9000], ['v2', 1000]), 'v2'],
    ['promotion of an existing canary', split(['v1', 9000], ['v2', 1000]), split(['v2', 10000]), 'v2'],
    ['first deployment: nothing to protect', [], split(['v1', 10000]), null],
    ['two revisions gain weight', split(['v1', 10000]), split(['v2', 5000], ['v3', 5000]), null],
    ['no change', split(['v1', 10000]), split(['v1', 10000]), null],
  ])('%s', (_name, before, after, expected) => {
    expect(canaryOf(before, after)).toBe(expected);
  });
});

describe('intermediateSplit', () => {
  it('gives the canary its weight and shares the rest in the stable proportions', () => {
    expect(intermediateSplit(split(['v1', 10000]), 'v2', 1000)).toEqual(split(['v1', 9000], ['v2', 1000]));
    expect(intermediateSplit(split(['a', 7500], ['b', 2500]), 'v2', 2000)).toEqual(
      split(['a', 6000], ['b', 2000], ['v2', 2000]),
    );
    // The canary's own stable share is not counted among "the rest".
    expect(intermediateSplit(split(['v1', 9000], ['v2', 1000]), 'v2', 5000)).toEqual(split(['v1', 5000], ['v2', 5000]));
  });

  it('always sums to exactly 10000 with the canary at the asked weight (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 9999 }),
        (raw, weight) => {
          // Make a stable split that sums to 10000 from arbitrary positive parts.
          const total = raw.reduce((s, w) => s + w, 0);
          const parts = raw.map((w) => Math.floor((w * 10000) / total));
          parts[0] += 10000 - parts.reduce((s, w) => s + w, 0);
          const stable = parts.map((w, i) => ({ revision_id: `s${i}`, weight_bps: w }));
          const out = intermediateSplit(stable, 'canary', weight);
          expect(out.reduce((s, e) => s + e.weight_bps, 0)).toBe(10000);
          expect(out.find((e) => e.revision_id === 'canary')!.weight_bps).toBe(weight);
          expect(out.every((e) => Number.isInteger(e.weight_bps) && e.weight_bps >= 0)).toBe(true);
        },
      ),
    );
  });
});

describe('nextAction', () => {
  it('walks weight, pause, analysis in order and ends with the declared split', () => {
    expect(nextAction(progress({ step: 0 }), 0)).toMatchObject({
      kind: 'weight',
      weight_bps: 1000,
      entries: split(['v1', 9000], ['v2', 1000]),
    });
    const pause = nextAction(progress({ step: 1 }), 1000);
    expect(pause).toEqual({ kind: 'pause', step: 1, until: new Date(NOW.getTime() + 120_000) });
    expect(nextAction(progress({ step: 2 }), 1000)).toMatchObject({
      kind: 'analysis',
      analysis: { metric: 'success_rate' },
    });
    expect(nextAction(progress({ step: 4 }), 5000)).toEqual({ kind: 'pause', step: 4, until: null });
    expect(nextAction(progress({ step: 5 }), 5000)).toEqual({ kind: 'final', entries: split(['v2', 10000]) });
  });

  it('skips weight steps the canary already has, and gives way to the target at or below a step', () => {
    expect(nextAction(progress({ step: 0 }), 1000)).toMatchObject({ kind: 'skip', step: 0 });
    const toTen = progress({ step: 3, target: split(['v1', 7000], ['v2', 3000]) });
    expect(nextAction(toTen, 1000)).toEqual({ kind: 'final', entries: split(['v1', 7000], ['v2', 3000]) });
  });

  it('goes straight to the declared split when fully promoted', () => {
    expect(nextAction(progress({ step: 1, promoted: 'full' }), 1000)).toEqual({
      kind: 'final',
      entries: split(['v2', 10000]),
    });
  });
});

describe('hasIntermediateWork', () => {
  it.each([
    [[{ weight_bps: 1000 }], 0, 10000, true],
    [[{ weight_bps: 1000 }], 1000, 10000, false],
    [[{ weight_bps: 5000 }], 0, 1000, false],
    [[{ pause: {} }], 0, 10000, true],
  ] as Array<[RolloutStep[], number, number, boolean]>)('%j from %i to %i: %s', (steps, from, to, expected) => {
    expect(hasIntermediateWork(steps, from, to)).toBe(expected);
  });
});

describe('decideRollout', () => {
  const d = dep('web', [rev('v1', { state: 'inactive' }), rev('v2')], split(['v2', 10000]), { rollout: ROLLOUT });
  const rec = (o: Partial<RolloutProgress> | null, enforced = split(['v1', 10000])) => ({
    deployment_id: 'web',
    deployer: 'local',
    listen: '127.0.0.1:8080',
    split: enforced,
    rollout: o === null ? null : progress(o),
  });

  it('begins a rollout when a declared split moves weight to one new revision', () => {
    const x = decideRollout(d, rec(null), false);
    expect(x.planned).toMatchObject({ canary: 'v2', begins: true, stable: split(['v1', 10000]), from_step: 0 });
    expect(x.notice).toMatchObject({ status: 'starting', steps: 5, diverged: false });
  });

  it('continues a recorded rollout toward the same split', () => {
    const x = decideRollout(d, rec({ step: 3, status: 'paused' }, split(['v1', 9000], ['v2', 1000])), false);
    expect(x.planned).toMatchObject({ begins: false, from_step: 3 });
    expect(x.notice).toMatchObject({ status: 'paused', weight_bps: 1000 });
  });

  it('says when a recorded pause has ended, so the plan reads true after waiting', () => {
    const paused = rec({
      step: 1,
      status: 'paused',
      pause_until: '2025-03-01T11:59:00.000Z',
      message: 'paused (60s left)',
    });
    expect(decideRollout(d, paused, false, NOW).notice!.message).toMatch(/pause at step 2\/5 ended/);
    const early = new Date('2025-03-01T11:58:00.000Z');
    expect(decideRollout(d, paused, false, early).notice!.message).toBe('paused (60s left)');
  });

  it('holds a rolled-back deployment on the stable split, canary inactive, while the file asks again', () => {
    const x = decideRollout(d, rec({ status: 'rolled_back', message: 'success_rate 0.5 < 0.99' }), false);
    expect(x.planned).toBeNull();
    expect(x.after).toEqual(split(['v1', 10000]));
    expect(x.hold).toEqual({ v1: 'ready', v2: 'inactive' });
    expect(x.notice).toMatchObject({ diverged: true, status: 'rolled_back' });
  });

  it('jumps without a rollout for a first deployment, under destroy, or without a rollout block', () => {
    expect(decideRollout(d, null, false).planned).toBeNull();
    expect(decideRollout(d, rec(null), true).planned).toBeNull();
    expect(decideRollout({ ...d, rollout: null }, rec(null), false).planned).toBeNull();
  });
});

describe('plan() with rollouts', () => {
  const desired = env([
    dep('web', [rev('v1', { state: 'inactive' }), rev('v2')], split(['v2', 10000]), { rollout: ROLLOUT }),
  ]);

  it('puts the rollout on the split step; the old revision drains only after it', () => {
    const prior = recorded(desired, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    const p = plan({ desired, recorded: prior, now: NOW });
    const s = p.steps.find((x) => x.id === 'split:web')!;
    expect(s.rollout).toMatchObject({ canary: 'v2', begins: true });
    expect(s.depends_on).toEqual(['warm:web/v2']);
    expect(p.steps.find((x) => x.id === 'drain:web/v1')!.depends_on).toContain('split:web');
    expect(p.rollouts).toHaveLength(1);
  });

  it('plans nothing for a rolled-back deployment and says it diverges', () => {
    const prior = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'inactive' },
      splits: { web: split(['v1', 10000]) },
    });
    prior.deployments.web.rollout = progress({ status: 'rolled_back', message: 'analysis failed' });
    const p = plan({ desired, recorded: prior, now: NOW });
    expect(p.steps).toEqual([]);
    expect(p.changes).toBe(false);
    expect(p.rollouts[0]).toMatchObject({ deployment_id: 'web', diverged: true });
  });

  it('a rolled-back rollout whose canary is still ready drains it; a changed file starts afresh', () => {
    const prior = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 10000]) },
    });
    prior.deployments.web.rollout = progress({ status: 'rolled_back' });
    expect(plan({ desired, recorded: prior, now: NOW }).steps.map((s) => s.id)).toEqual(['drain:web/v2']);
    const v3 = env([
      dep(
        'web',
        [rev('v1', { state: 'inactive' }), rev('v2', { state: 'inactive' }), rev('v3')],
        split(['v3', 10000]),
        { rollout: ROLLOUT },
      ),
    ]);
    const fresh = plan({ desired: v3, recorded: prior, now: NOW });
    expect(fresh.steps.find((s) => s.id === 'split:web')!.rollout).toMatchObject({ canary: 'v3', begins: true });
  });
});
