/**
 * `bp rollout promote` / `abort` hold the state lock across the whole read-modify-write: a
 * second writer that tries at every point where the old code let go (after the decision is
 * recorded, and wherever the lock is taken again) finds the lock held.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineContext } from '../../src/apply/engine.js';
import { controlRollout, type OperatorDecision } from '../../src/apply/rollout-control.js';
import type { StateBackend, StateSession } from '../../src/state/backend.js';
import { LocalStateBackend } from '../../src/state/local.js';
import { tempDir } from '../helpers/cli.js';
import { RolloutHarness, scriptedAnalysis } from './rollout-fixture.js';

let t: { dir: string; cleanup(): void };
let h: RolloutHarness;

beforeEach(async () => {
  t = tempDir('bp-rollout-control-');
  h = new RolloutHarness(t.dir);
  h.write({ revisions: [{ id: 'v1' }], traffic: [['v1', 10000]], steps: ['weight_bps: 1000'] });
  expect((await h.apply()).result?.failed).toBe(0);
  h.write({
    revisions: [{ id: 'v1', state: 'inactive' }, { id: 'v2' }],
    traffic: [['v2', 10000]],
    steps: ['weight_bps: 1000', 'pause: {}'],
  });
  expect((await h.apply()).result).toMatchObject({ held: 1 });
});
afterEach(() => t.cleanup());

/**
 * Wraps a backend so that, at every lock taken and every checkpoint written by the operation
 * under test, another writer (a second backend on the same directory) tries to take the lock.
 */
function contended(inner: StateBackend, rival: StateBackend) {
  const seen = { locks: 0, attempts: 0, slippedIn: 0, refused: [] as string[] };
  const tryRival = async () => {
    seen.attempts++;
    try {
      const s = await rival.lock('demo', { operation: 'apply', timeoutMs: 0 });
      seen.slippedIn++;
      await s.release();
    } catch (e) {
      seen.refused.push((e as { code?: string }).code ?? String(e));
    }
  };
  const backend: StateBackend = {
    description: inner.description,
    list: () => inner.list(),
    load: (id) => inner.load(id),
    lockHolder: (id) => inner.lockHolder(id),
    forceUnlock: (id, lockId) => inner.forceUnlock(id, lockId),
    close: () => inner.close(),
    async lock(id, req) {
      // The old code released the lock and took it again: the rival got in right here.
      if (seen.locks > 0) await tryRival();
      seen.locks++;
      const session = await inner.lock(id, req);
      const wrapped: StateSession = {
        get lock() {
          return session.lock;
        },
        get state() {
          return session.state;
        },
        begin: (base) => session.begin(base),
        record: (mutations) => session.record(mutations),
        async checkpoint(state) {
          await session.checkpoint(state);
          await tryRival();
        },
        release: () => session.release(),
      };
      return wrapped;
    },
  };
  return { backend, seen };
}

describe('rollout control holds the lock across read-modify-write', () => {
  it.each<[string, OperatorDecision]>([
    ['promote', { kind: 'promote', full: true }],
    ['abort', { kind: 'abort' }],
  ])('%s: no second writer slips in between recording the decision and carrying it out', async (_name, decision) => {
    const stateDir = join(t.dir, '.bp');
    const inner = new LocalStateBackend(stateDir);
    const rival = new LocalStateBackend(stateDir);
    const { backend, seen } = contended(inner, rival);
    const ctx: EngineContext = {
      backend,
      stateDir,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      emit: () => undefined,
      clock: () => new Date(),
      vars: {},
    };
    try {
      const out = await controlRollout(ctx, {
        environmentId: 'demo',
        deploymentId: 'web',
        decision,
        baseDir: t.dir,
        lockTimeoutMs: 0,
        parallelism: 1,
        retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
        analysis: scriptedAnalysis(),
        stop: new AbortController().signal,
        kill: new AbortController().signal,
      });
      expect(out.result?.failed).toBe(0);
      expect(out.progress.status).toBe(decision.kind === 'abort' ? 'aborted' : 'completed');
      expect(seen.locks).toBe(1);
      // The decision's checkpoint and the apply's checkpoint: the rival tried after each.
      expect(seen.attempts).toBeGreaterThanOrEqual(2);
      expect(seen.slippedIn).toBe(0);
      expect(seen.refused.every((c) => c === 'LockHeld')).toBe(true);
      // And the lock is free once the operation is done.
      await (await rival.lock('demo', { operation: 'apply', timeoutMs: 0 })).release();
    } finally {
      await inner.close();
      await rival.close();
    }
  });
});

describe('changing the rollout strategy while a rollout is held at a pause', () => {
  it('apply records the new strategy; the running rollout and promote keep the steps it began with', async () => {
    h.write({
      revisions: [{ id: 'v1', state: 'inactive' }, { id: 'v2' }],
      traffic: [['v2', 10000]],
      steps: ['weight_bps: 1000', 'pause: {}', 'weight_bps: 5000'],
    });
    const p = await h.plan();
    const update = p.steps.find((s) => s.id === 'update:web')!;
    expect(update.changes).toEqual([{ field: 'rollout.steps[2]', old: null, new: { weight_bps: 5000 } }]);
    expect(update.note).toMatch(/^the rollout of v2 in progress keeps the 2 steps it began with/);
    expect(p.steps.find((s) => s.id === 'split:web')!.rollout!.steps).toHaveLength(2);

    expect((await h.apply()).result).toMatchObject({ held: 1, failed: 0 });
    let state = await h.state();
    expect(state.deployments.web!.rollout_strategy!.steps).toHaveLength(3);
    expect(state.deployments.web!.rollout!.steps).toHaveLength(2);

    const promoted = await h.control({ kind: 'promote', full: false });
    expect(promoted.progress.status).toBe('completed');
    // The recorded two steps were walked: 10%, then the declared split; never the new 50% step.
    expect(h.splitHistory().slice(-2)).toEqual([
      [
        ['v1', 9000],
        ['v2', 1000],
      ],
      [['v2', 10000]],
    ]);
    state = await h.state();
    expect(state.deployments.web!.rollout_strategy!.steps).toHaveLength(3);
    const after = await h.plan();
    expect(after.steps.filter((s) => s.verb === 'update')).toEqual([]);
  });
});
