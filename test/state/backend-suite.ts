/**
 * The contract every StateBackend must meet (Terraform's statemgr.TestFull): run it from a
 * backend's own test file with a factory that returns a fresh, empty backend.
 */
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BpError, LockHeldError } from '../../src/model/errors.js';
import { applyMutation, type HistoryEntry, type RecordedState } from '../../src/model/state.js';
import type { StateBackend } from '../../src/state/backend.js';
import { allKindsOfMutation, expectedAfterAllKinds, freshState, pendingStart, revision } from './builders.js';

export interface BackendUnderTest {
  backend: StateBackend;
  cleanup(): Promise<void>;
}

const NOW = { operation: 'test', timeoutMs: 0 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function stateBackendSuite(name: string, make: () => Promise<BackendUnderTest>): void {
  describe(`StateBackend contract: ${name}`, () => {
    let backend: StateBackend;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ backend, cleanup } = await make());
    });
    afterEach(async () => {
      await backend.close();
      await cleanup();
    });

    /** Creates serial 1 of `env` holding the given revisions, checkpointed. */
    async function seed(env: string, ...revisionIds: string[]): Promise<RecordedState> {
      const s = await backend.lock(env, NOW);
      const state = freshState(env);
      await s.begin(state);
      for (const id of revisionIds) applyMutation(state, { kind: 'revision', revision: revision(id) });
      await s.checkpoint(state);
      await s.release();
      return (await backend.load(env)) as RecordedState;
    }

    it('keeps a bounded history: entries journaled and checkpointed, oldest dropped past the limit', async () => {
      const entry = (id: number): HistoryEntry => ({
        id,
        at: `2026-01-01T00:00:0${id}.000Z`,
        operation: 'apply',
        actor: { user: 'ci', host: 'runner', ci: { GITHUB_SHA: `sha${id}` } },
        plan_digest: 'ab'.repeat(32),
        steps: { total: 1, succeeded: 1, failed: 0, skipped: 0, not_started: 0 },
        outcome: 'succeeded',
        splits: { web: [{ revision_id: `web-v${id}`, weight_bps: 10000 }] },
        rollouts: {},
      });
      const s = await backend.lock('hist', NOW);
      const state = freshState('hist');
      await s.begin(state);
      for (const id of [1, 2, 3]) {
        const m = { kind: 'history' as const, entry: entry(id), limit: 2 };
        await s.record([m]);
        applyMutation(state, m);
      }
      // Journal only (no checkpoint yet): replay applies the bound too.
      expect((await backend.load('hist'))?.history?.map((h) => h.id)).toEqual([2, 3]);
      await s.checkpoint(state);
      await s.release();
      const loaded = (await backend.load('hist')) as RecordedState;
      expect(loaded.history).toEqual([entry(2), entry(3)]);
    });

    it('has a description', () => {
      expect(backend.description.length).toBeGreaterThan(0);
    });

    it('knows nothing about an environment that was never written', async () => {
      expect(await backend.load('nothing-here')).toBeNull();
      expect(await backend.lockHolder('nothing-here')).toBeNull();
      expect(await backend.list()).toEqual([]);
    });

    it('gives a first writer no state, then serial 1 in the lineage of the base it began from', async () => {
      const s = await backend.lock('demo', NOW);
      expect(s.state).toBeNull();
      const base = freshState('demo');
      await s.begin(base);
      await s.release();
      const loaded = await backend.load('demo');
      expect(loaded).toMatchObject({ environment_id: 'demo', lineage: base.lineage, serial: 1 });
    });

    it('replays recorded mutations on load, even when the writer never checkpointed', async () => {
      const s = await backend.lock('demo', NOW);
      const base = freshState('demo');
      await s.begin(base);
      const muts = allKindsOfMutation();
      await s.record(muts.slice(0, 4));
      await s.record(muts.slice(4));
      await s.release();
      const loaded = (await backend.load('demo')) as RecordedState;
      expect(loaded).toMatchObject({ ...expectedAfterAllKinds(base), serial: 1 });
    });

    it('lets a reader see recorded mutations while the writer still holds the lock', async () => {
      const s = await backend.lock('demo', NOW);
      await s.begin(freshState('demo'));
      await s.record([pendingStart('stage:web/web-v1')]);
      expect(Object.keys((await backend.load('demo'))!.pending)).toEqual(['stage:web/web-v1']);
      await s.release();
    });

    it('bumps the serial once per begin and keeps the lineage', async () => {
      const first = await seed('demo', 'web-v1');
      const s = await backend.lock('demo', NOW);
      expect(s.state).toEqual(first);
      await s.begin(s.state!);
      await s.record([{ kind: 'revision', revision: revision('web-v2') }]);
      await s.release();
      const second = (await backend.load('demo'))!;
      expect(second.lineage).toBe(first.lineage);
      expect(second.serial).toBe(first.serial + 1);
      expect(Object.keys(second.revisions).sort()).toEqual(['web-v1', 'web-v2']);
    });

    it('refuses to begin from a base that is not the recorded serial and lineage', async () => {
      const first = await seed('demo');
      const s = await backend.lock('demo', NOW);
      const err1 = await s.begin({ ...first, serial: first.serial - 1 }).catch((e: unknown) => e);
      expect(BpError.is(err1) && err1.code).toBe('StaleState');
      const err2 = await s.begin(freshState('demo')).catch((e: unknown) => e);
      expect(BpError.is(err2) && err2.code).toBe('StaleState');
      await s.release();
      expect(await backend.load('demo')).toEqual(first);
    });

    it('rejects record before begin', async () => {
      const s = await backend.lock('demo', NOW);
      await expect(s.record([pendingStart('x')])).rejects.toThrow(/begin/);
      await s.release();
    });

    it('loads exactly the checkpointed state, then replays records made after the checkpoint', async () => {
      const s = await backend.lock('demo', NOW);
      const state = freshState('demo');
      await s.begin(state);
      for (const m of allKindsOfMutation()) {
        applyMutation(state, m);
        await s.record([m]);
      }
      await s.checkpoint(state);
      expect(await backend.load('demo')).toEqual({ ...state, serial: 1 });
      const later = pendingStart('archive:web/web-v1');
      await s.record([later]);
      await s.release();
      expect(await backend.load('demo')).toEqual(applyMutation({ ...structuredClone(state), serial: 1 }, later));
    });

    it('lets only one writer hold an environment and names the holder to the loser at once', async () => {
      const s = await backend.lock('demo', { operation: 'apply', timeoutMs: 0 });
      expect(s.lock).toMatchObject({ pid: process.pid, host: hostname(), operation: 'apply' });
      expect(s.lock.id).toMatch(UUID);
      expect(Number.isNaN(Date.parse(s.lock.created))).toBe(false);
      expect(await backend.lockHolder('demo')).toEqual(s.lock);
      const started = Date.now();
      const err = await backend.lock('demo', NOW).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as LockHeldError).holder.id).toBe(s.lock.id);
      expect((err as LockHeldError).message).toContain(s.lock.id);
      await s.release();
    });

    it('locks environments independently', async () => {
      const a = await backend.lock('env-a', NOW);
      const b = await backend.lock('env-b', NOW);
      expect(a.lock.id).not.toBe(b.lock.id);
      await Promise.all([a.release(), b.release()]);
    });

    it('waits up to the lock timeout and gets the lock once the holder releases', async () => {
      const s = await backend.lock('demo', NOW);
      setTimeout(() => void s.release(), 300);
      const started = Date.now();
      const second = await backend.lock('demo', { operation: 'test', timeoutMs: 10_000 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(await backend.lockHolder('demo')).toEqual(second.lock);
      await second.release();
    });

    it('fails with LockHeld after the lock timeout when the holder keeps the lock', async () => {
      const s = await backend.lock('demo', NOW);
      const started = Date.now();
      await expect(backend.lock('demo', { operation: 'test', timeoutMs: 300 })).rejects.toBeInstanceOf(LockHeldError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      await s.release();
    });

    it("force-unlocks only with the holder's lock id", async () => {
      const s = await backend.lock('demo', NOW);
      await expect(backend.forceUnlock('demo', 'not-the-id')).rejects.toThrow(s.lock.id);
      expect(await backend.lockHolder('demo')).toEqual(s.lock);
      await backend.forceUnlock('demo', s.lock.id);
      expect(await backend.lockHolder('demo')).toBeNull();
      const next = await backend.lock('demo', NOW);
      // The force-unlocked session's release must not remove the new holder's lock.
      await s.release();
      expect(await backend.lockHolder('demo')).toEqual(next.lock);
      await next.release();
    });

    it('rejects force-unlock of an environment nobody holds', async () => {
      await expect(backend.forceUnlock('demo', 'any')).rejects.toThrow(/not locked/);
    });

    it('releases idempotently', async () => {
      const s = await backend.lock('demo', NOW);
      await s.release();
      await s.release();
      expect(await backend.lockHolder('demo')).toBeNull();
      await expect(s.record([pendingStart('x')])).rejects.toThrow(/release/);
    });

    it('makes every one of many concurrent records durable', async () => {
      const s = await backend.lock('demo', NOW);
      await s.begin(freshState('demo'));
      const ids = Array.from({ length: 200 }, (_, i) => `warm:web/r${i}`);
      await Promise.all(ids.map((id) => s.record([pendingStart(id)])));
      await s.release();
      expect(Object.keys((await backend.load('demo'))!.pending).sort()).toEqual([...ids].sort());
    });

    it('keeps the mutations of one record call together and in call order', async () => {
      const s = await backend.lock('demo', NOW);
      await s.begin(freshState('demo'));
      await Promise.all([
        s.record([{ kind: 'revision', revision: revision('r', { lifecycle: 'staged' }) }, pendingStart('a')]),
        s.record([{ kind: 'revision', revision: revision('r', { lifecycle: 'warming' }) }]),
        s.record([{ kind: 'pending_done', step_id: 'a' }]),
      ]);
      await s.release();
      const loaded = (await backend.load('demo'))!;
      expect(loaded.revisions.r.lifecycle).toBe('warming');
      expect(loaded.pending).toEqual({});
    });

    it('lists environments with state, sorted', async () => {
      await seed('zeta');
      await seed('alpha');
      const locked = await backend.lock('only-locked', NOW);
      expect(await backend.list()).toEqual(['alpha', 'zeta']);
      await locked.release();
    });

    it('releases held locks on close', async () => {
      await backend.lock('demo', NOW);
      await backend.close();
      expect(await backend.lockHolder('demo')).toBeNull();
    });
  });
}
