import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { RolloutHarness, scriptedAnalysis } from './rollout-fixture.js';

let t: { dir: string; cleanup(): void };
let h: RolloutHarness;
const ANALYSIS = '{ analysis: { metric: success_rate, min: 0.99, interval: 1s, count: 2 } }';

beforeEach(async () => {
  t = tempDir('bp-rollout-');
  h = new RolloutHarness(t.dir);
  // v1 takes all traffic first: a first deployment never walks a rollout.
  h.write({ revisions: [{ id: 'v1' }], traffic: [['v1', 10000]], steps: ['weight_bps: 1000'] });
  const first = await h.apply();
  expect(first.result?.failed).toBe(0);
  expect(first.plan.steps.find((s) => s.id === 'split:web')?.rollout).toBeUndefined();
});
afterEach(() => t.cleanup());

const promoteV2 = (steps: string[], onFailure?: 'rollback' | 'pause') =>
  h.write({ revisions: [{ id: 'v1', state: 'inactive' }, { id: 'v2' }], traffic: [['v2', 10000]], steps, onFailure });

describe('rollouts through the executor', () => {
  it('walks weights and passing analyses to the declared split, then drains the old revision', async () => {
    promoteV2(['weight_bps: 1000', ANALYSIS, 'weight_bps: 5000', ANALYSIS]);
    const analysis = scriptedAnalysis();
    const out = await h.apply({ analysis });
    expect(out.result).toMatchObject({ failed: 0, skipped: 0, held: 0 });
    expect(h.splitHistory().slice(1)).toEqual([
      [
        ['v1', 9000],
        ['v2', 1000],
      ],
      [
        ['v1', 5000],
        ['v2', 5000],
      ],
      [['v2', 10000]],
    ]);
    expect(analysis.measured).toHaveLength(4);
    const state = await h.state();
    expect(state.deployments.web.rollout).toMatchObject({ status: 'completed', step: 4 });
    // Each analysis counted only its own step's measurements, and all of them stay on record after the end.
    expect(state.deployments.web.rollout!.measurements.map((m) => [m.step, m.verdict])).toEqual([
      [2, 'pass'],
      [2, 'pass'],
      [4, 'pass'],
      [4, 'pass'],
    ]);
    expect(state.deployments.web.split).toEqual([{ revision_id: 'v2', weight_bps: 10000 }]);
    expect(state.revisions.v1.lifecycle).toBe('inactive');
    expect(h.running()).toEqual(['v2']);
    expect((await h.plan()).changes).toBe(false);
  });

  it('rolls back at the first failed measurement: stable split at once, canary drained, exit as a failure', async () => {
    promoteV2(['weight_bps: 1000', ANALYSIS, 'weight_bps: 5000']);
    const out = await h.apply({ analysis: scriptedAnalysis(['pass', 'fail']) });
    const split = out.result!.outcomes.find((o) => o.step_id === 'split:web')!;
    expect(split).toMatchObject({ status: 'failed', code: 'RolloutFailed' });
    expect(split.error).toMatch(/rolled back: analysis at step 2\/3 failed: success_rate 0.5/);
    expect(out.result!.outcomes.find((o) => o.step_id === 'drain:web/v1')!.status).toBe('skipped');
    expect(h.splitHistory().slice(1)).toEqual([
      [
        ['v1', 9000],
        ['v2', 1000],
      ],
      [['v1', 10000]],
    ]);
    expect(h.running()).toEqual(['v1']);
    const state = await h.state();
    expect(state.deployments.web.rollout).toMatchObject({ status: 'rolled_back' });
    expect(state.deployments.web.rollout!.measurements.map((m) => m.verdict)).toEqual(['pass', 'fail']);
    expect(state.revisions.v2.lifecycle).toBe('inactive');
    expect(h.events.some((e) => e.type === 'rollout_rolled_back')).toBe(true);
    // The canary's drain reports under the split step the operator sees running.
    const drainProgress = h.events.filter((e) => e.type === 'step_progress');
    expect(drainProgress).toHaveLength(1);
    expect(drainProgress[0]).toMatchObject({
      step: { id: 'split:web' },
      waiting_for: 'requests in flight to "v2" to finish',
      status: expect.stringMatching(/^\d+s left$/),
    });

    // The file still asks for v2: nothing happens until it changes.
    const next = await h.plan();
    expect(next.steps).toEqual([]);
    expect(next.rollouts[0]).toMatchObject({ diverged: true, status: 'rolled_back', canary: 'v2' });
    const again = await h.apply();
    expect(again.result).toBeNull();
    expect(h.currentSplit()).toEqual([['v1', 10000]]);

    // A new revision in the file starts a fresh rollout from the stable split.
    h.write({
      revisions: [{ id: 'v1', state: 'inactive' }, { id: 'v2', state: 'inactive' }, { id: 'v3' }],
      traffic: [['v3', 10000]],
      steps: ['weight_bps: 2000'],
    });
    const fresh = await h.apply();
    expect(fresh.result).toMatchObject({ failed: 0, skipped: 0 });
    expect(h.splitHistory().slice(-2)).toEqual([
      [
        ['v1', 8000],
        ['v3', 2000],
      ],
      [['v3', 10000]],
    ]);
  });

  it('halts instead with on_failure: pause, and promote lets it go on', async () => {
    promoteV2(['weight_bps: 1000', ANALYSIS], 'pause');
    const out = await h.apply({ analysis: scriptedAnalysis(['fail']) });
    expect(out.result!.failed).toBe(1);
    expect((await h.state()).deployments.web.rollout).toMatchObject({ status: 'halted' });
    expect(h.currentSplit()).toEqual([
      ['v1', 9000],
      ['v2', 1000],
    ]);

    // Halted stays halted on the next apply: no new measurement, still a failure.
    const analysis = scriptedAnalysis();
    const again = await h.apply({ analysis });
    expect(again.result!.outcomes.find((o) => o.step_id === 'split:web')!.error).toMatch(/halted/);
    expect(analysis.opened).toBe(0);

    const promoted = await h.control({ kind: 'promote', full: false });
    expect(promoted.progress.status).toBe('completed');
    expect(h.currentSplit()).toEqual([['v2', 10000]]);
  });

  it('holds at a pause (exit 0), continues once it ends, and --wait waits through it', async () => {
    promoteV2(['weight_bps: 1000', 'pause: 1s', 'weight_bps: 5000']);
    const held = await h.apply();
    expect(held.result).toMatchObject({ failed: 0, skipped: 0, held: 1, waiting: 1 });
    expect((await h.state()).deployments.web.rollout).toMatchObject({ status: 'paused', step: 1 });
    expect(h.currentSplit()).toEqual([
      ['v1', 9000],
      ['v2', 1000],
    ]);
    expect((await h.plan()).rollouts[0]).toMatchObject({ status: 'paused' });

    await new Promise((r) => setTimeout(r, 1100));
    const done = await h.apply();
    expect(done.result).toMatchObject({ failed: 0, held: 0 });
    expect(h.currentSplit()).toEqual([['v2', 10000]]);
    expect(h.running()).toEqual(['v2']);
  });

  it('--wait waits through a timed pause in one apply', async () => {
    promoteV2(['weight_bps: 1000', 'pause: 1s', 'weight_bps: 5000']);
    const out = await h.apply({ waitMs: 10_000 });
    expect(out.result).toMatchObject({ failed: 0, held: 0, skipped: 0 });
    expect(h.splitHistory().slice(1)).toEqual([
      [
        ['v1', 9000],
        ['v2', 1000],
      ],
      [
        ['v1', 5000],
        ['v2', 5000],
      ],
      [['v2', 10000]],
    ]);
  });

  it('waits for promote at an indefinite pause, across separate invocations', async () => {
    promoteV2(['weight_bps: 1000', 'pause: {}', 'weight_bps: 5000', 'pause: {}']);
    expect((await h.apply({ waitMs: 60_000 })).result).toMatchObject({ held: 1 });
    expect((await h.apply()).result).toMatchObject({ held: 1 });
    expect(h.currentSplit()).toEqual([
      ['v1', 9000],
      ['v2', 1000],
    ]);

    const step = await h.control({ kind: 'promote', full: false });
    expect(step.progress).toMatchObject({ status: 'paused', step: 3 });
    expect(h.currentSplit()).toEqual([
      ['v1', 5000],
      ['v2', 5000],
    ]);

    const full = await h.control({ kind: 'promote', full: true });
    expect(full.progress.status).toBe('completed');
    expect(h.currentSplit()).toEqual([['v2', 10000]]);
    // What the file retires is the file's business: the next apply drains v1.
    const rest = await h.apply();
    expect(rest.plan.steps.map((s) => s.id)).toEqual(['drain:web/v1']);
  });

  it('abort returns to the stable split and drains the canary without archiving it', async () => {
    promoteV2(['weight_bps: 2500', 'pause: {}']);
    await h.apply();
    const aborted = await h.control({ kind: 'abort' });
    expect(aborted.result).toMatchObject({ failed: 0 });
    expect(aborted.progress.status).toBe('aborted');
    expect(h.currentSplit()).toEqual([['v1', 10000]]);
    expect(h.running()).toEqual(['v1']);
    const state = await h.state();
    expect(state.revisions.v2.lifecycle).toBe('inactive');
    expect((await h.plan()).rollouts[0]).toMatchObject({ diverged: true, status: 'aborted' });
    await expect(h.control({ kind: 'abort' })).rejects.toThrow(/no rollout in progress.*aborted/);
  });

  it('an interrupt mid-analysis keeps the measurements; the next apply takes only the missing ones', async () => {
    promoteV2(['weight_bps: 1000', '{ analysis: { metric: success_rate, min: 0.99, interval: 1s, count: 3 } }']);
    const stop = new AbortController();
    const slow = scriptedAnalysis();
    slow.intervalMs = () => 300;
    const origFinish = slow.openWindow.bind(slow);
    slow.openWindow = async (a, target, signal) => {
      const w = await origFinish(a, target, signal);
      return {
        async finish(s: AbortSignal) {
          const m = await w.finish(s);
          if (slow.measured.length === 1) stop.abort(); // interrupt after the first measurement
          return m;
        },
      };
    };
    const first = await h.apply({ analysis: slow, stop: stop.signal });
    expect(first.result!.interrupted).toBe(true);
    expect((await h.state()).deployments.web.rollout!.measurements).toHaveLength(1);

    const rest = scriptedAnalysis();
    const second = await h.apply({ analysis: rest });
    expect(second.result).toMatchObject({ failed: 0, held: 0 });
    expect(rest.measured).toHaveLength(2);
    expect(h.currentSplit()).toEqual([['v2', 10000]]);
  });

  it('a canary whose warm fails is rolled back before it takes traffic', async () => {
    h.write({
      revisions: [{ id: 'v1', state: 'inactive' }, { id: 'v2' }],
      traffic: [['v2', 10000]],
      steps: ['weight_bps: 1000'],
      faults: { 'warm:v2': { mode: 'permanent' } },
    });
    const out = await h.apply();
    expect(out.result!.failed).toBe(1);
    expect(h.currentSplit()).toEqual([['v1', 10000]]);
    const state = await h.state();
    expect(state.deployments.web.rollout).toMatchObject({ status: 'rolled_back', canary: 'v2' });
    expect(state.deployments.web.rollout!.message).toMatch(/warm of v2 failed/);
    expect(h.events.filter((e) => e.type === 'rollout_rolled_back')).toHaveLength(1);
  });

  it('a rollout step whose split the deployer reports differently from the request fails, naming the difference', async () => {
    h.write({
      revisions: [{ id: 'v1', state: 'inactive' }, { id: 'v2' }],
      traffic: [['v2', 10000]],
      steps: ['weight_bps: 1000'],
      faults: { 'apply_traffic_split:web': { mode: 'misreport' } },
    });
    const out = await h.apply();
    const split = out.result!.outcomes.find((o) => o.step_id === 'split:web')!;
    expect(split.status).not.toBe('succeeded');
    expect(split.error).toMatch(/applied a split that differs from the request: .*"v1" at 5 bps \(asked 9000 bps\)/);
    expect(split.error).toMatch(/"invented" at 9995 bps was not asked for/);
    expect(out.result!.failed).toBeGreaterThanOrEqual(1);
    // The misreported split is never recorded as the one in force.
    expect((await h.state()).deployments.web.split).not.toContainEqual({ revision_id: 'invented', weight_bps: 9995 });
  });

  it('changing the file mid-rollout back to the stable split ends the rollout', async () => {
    promoteV2(['weight_bps: 1000', 'pause: {}']);
    await h.apply();
    h.write({
      revisions: [{ id: 'v1' }, { id: 'v2', state: 'inactive' }],
      traffic: [['v1', 10000]],
      steps: ['weight_bps: 1000'],
    });
    const out = await h.apply();
    expect(out.result).toMatchObject({ failed: 0, held: 0 });
    expect(h.currentSplit()).toEqual([['v1', 10000]]);
    expect((await h.state()).deployments.web.rollout ?? null).toBeNull();
    expect((await h.plan()).changes).toBe(false);
  });
});
