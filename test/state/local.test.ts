import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BpError, LockHeldError, StateCorruptError, type LockInfo } from '../../src/model/errors.js';
import { applyMutation, type RecordedState } from '../../src/model/state.js';
import { LocalStateBackend } from '../../src/state/local.js';
import { processStartTime } from '../../src/state/process-liveness.js';
import { stateBackendSuite } from './backend-suite.js';
import { freshState, pendingStart, revision } from './builders.js';
import { killHard, spawnTs } from './child.js';

const NOW = { operation: 'test', timeoutMs: 0 };

stateBackendSuite('LocalStateBackend', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bp-state-suite-'));
  return { backend: new LocalStateBackend(join(dir, '.bp')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('LocalStateBackend (local files)', () => {
  let root: string;
  let stateDir: string;
  let backend: LocalStateBackend;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bp-state-local-'));
    stateDir = join(root, '.bp');
    backend = new LocalStateBackend(stateDir);
  });
  afterEach(async () => {
    await backend.close();
    await rm(root, { recursive: true, force: true });
  });

  const envDir = (env = 'demo'): string => join(stateDir, 'envs', env);
  const file = (name: string, env = 'demo'): string => join(envDir(env), name);
  const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

  /** serial 1 with web-v1 checkpointed, then serial 2 with web-v2 recorded in the journal only. */
  async function stateWithJournal(): Promise<RecordedState> {
    const s1 = await backend.lock('demo', NOW);
    const state = freshState('demo');
    await s1.begin(state);
    applyMutation(state, { kind: 'revision', revision: revision('web-v1') });
    await s1.checkpoint(state);
    await s1.release();
    const s2 = await backend.lock('demo', NOW);
    await s2.begin(s2.state!);
    await s2.record([{ kind: 'revision', revision: revision('web-v2') }]);
    await s2.record([pendingStart('warm:web/web-v2')]);
    await s2.release();
    return (await backend.load('demo'))!;
  }

  async function corruptionOf(action: Promise<unknown>): Promise<StateCorruptError> {
    const err = await action.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateCorruptError);
    return err as StateCorruptError;
  }

  it('uses the documented layout', async () => {
    await stateWithJournal();
    expect((await readdir(envDir())).sort()).toEqual(['journal.ndjson', 'state.json', 'state.json.backup']);
    const journal = (await readFile(file('journal.ndjson'), 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(journal[0])).toMatchObject({
      format_version: 'bp.journal/v1',
      environment_id: 'demo',
      serial: 2,
    });
    expect(journal).toHaveLength(3);
  });

  it('creates directories 0700 and files 0600', async () => {
    await stateWithJournal();
    const s = await backend.lock('demo', NOW);
    for (const d of [stateDir, join(stateDir, 'envs'), envDir()]) expect(await mode(d), d).toBe(0o700);
    for (const f of ['state.json', 'state.json.backup', 'journal.ndjson', 'lock.json'])
      expect(await mode(file(f)), f).toBe(0o600);
    await s.release();
  });

  it('keeps the state as it was before the writer began as the backup after its checkpoint', async () => {
    const before = await stateWithJournal();
    const s = await backend.lock('demo', NOW);
    const state = structuredClone(s.state!);
    await s.begin(state);
    applyMutation(state, { kind: 'revision', revision: revision('web-v3') });
    await s.checkpoint(state);
    await s.release();
    const backup = JSON.parse(await readFile(file('state.json.backup'), 'utf8')) as RecordedState;
    expect(backup).toEqual({ ...before, serial: 3 });
    expect((await backend.load('demo'))!.revisions['web-v3']).toBeDefined();
  });

  it('ignores a torn last journal line and lets the next writer carry on', async () => {
    const before = await stateWithJournal();
    await appendFile(file('journal.ndjson'), '{"mutations":[{"kind":"pending","op":{"step_');
    expect(await backend.load('demo')).toEqual(before);
    const s = await backend.lock('demo', NOW);
    expect(s.state).toEqual(before);
    await s.begin(s.state!);
    await s.record([pendingStart('later')]);
    await s.release();
    expect(Object.keys((await backend.load('demo'))!.pending).sort()).toEqual(['later', 'warm:web/web-v2']);
  });

  it('reports an unparseable journal line other than the last with its file, line and the backup', async () => {
    await stateWithJournal();
    const lines = (await readFile(file('journal.ndjson'), 'utf8')).split('\n');
    lines[1] = '{"mutations": [ garbage';
    await writeFile(file('journal.ndjson'), lines.join('\n'));
    const err = await corruptionOf(backend.load('demo'));
    expect(err.code).toBe('StateCorrupt');
    expect(err.message).toContain(`${file('journal.ndjson')}:2`);
    expect(err.message).toMatch(/backup .*exists/);
    expect(err.message).toContain(file('state.json.backup'));
  });

  it('rejects unknown mutation kinds in the journal', async () => {
    await stateWithJournal();
    await appendFile(file('journal.ndjson'), '{"mutations":[{"kind":"teleport"}]}\n');
    expect((await corruptionOf(backend.load('demo'))).message).toContain(`${file('journal.ndjson')}:4`);
  });

  it('reports a snapshot that is not JSON', async () => {
    await stateWithJournal();
    await writeFile(file('state.json'), '{"format_version": "bp.state/v1", ');
    const err = await corruptionOf(backend.load('demo'));
    expect(err.message).toContain(file('state.json'));
    expect(err.message).toMatch(/backup .*exists/);
    // A writer cannot start on top of corrupt state either, and leaves no lock behind.
    await expect(backend.lock('demo', NOW)).rejects.toBeInstanceOf(StateCorruptError);
    expect(await backend.lockHolder('demo')).toBeNull();
  });

  it('validates the snapshot format_version', async () => {
    await stateWithJournal();
    const snap = JSON.parse(await readFile(file('state.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(file('state.json'), JSON.stringify({ ...snap, format_version: 'bp.state/v99' }));
    expect((await corruptionOf(backend.load('demo'))).message).toMatch(/format_version "bp\.state\/v99"/);
  });

  it('validates the journal format_version', async () => {
    await stateWithJournal();
    const lines = (await readFile(file('journal.ndjson'), 'utf8')).split('\n');
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]), format_version: 'bp.journal/v0' });
    await writeFile(file('journal.ndjson'), lines.join('\n'));
    expect((await corruptionOf(backend.load('demo'))).message).toContain(`${file('journal.ndjson')}:1`);
  });

  it('says when no backup exists', async () => {
    const s = await backend.lock('demo', NOW);
    await s.begin(freshState('demo'));
    await s.release();
    await writeFile(file('state.json'), 'nope');
    expect((await corruptionOf(backend.load('demo'))).message).toMatch(/no backup exists/);
  });

  it('ignores a journal left from an earlier serial (begin died after writing its snapshot)', async () => {
    const before = await stateWithJournal();
    const s = await backend.lock('demo', NOW);
    const oldJournal = await readFile(file('journal.ndjson'), 'utf8');
    await s.begin(s.state!);
    await s.release();
    await writeFile(file('journal.ndjson'), oldJournal);
    expect(await backend.load('demo')).toEqual({ ...before, serial: 3 });
  });

  it('treats a journal ahead of the snapshot as corruption', async () => {
    await stateWithJournal();
    const lines = (await readFile(file('journal.ndjson'), 'utf8')).split('\n');
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]), serial: 7 });
    await writeFile(file('journal.ndjson'), lines.join('\n'));
    expect((await corruptionOf(backend.load('demo'))).message).toMatch(/serial 7 but the snapshot is serial 2/);
  });

  it('group-commits concurrent records into far fewer fsyncs than records', async () => {
    const s = await backend.lock('demo', NOW);
    await s.begin(freshState('demo'));
    const before = backend.stats.fsyncs;
    await Promise.all(Array.from({ length: 100 }, (_, i) => s.record([pendingStart(`s${i}`)])));
    const used = backend.stats.fsyncs - before;
    expect(used).toBeGreaterThanOrEqual(1);
    expect(used).toBeLessThan(10);
    await s.release();
    expect(Object.keys((await backend.load('demo'))!.pending)).toHaveLength(100);
  });

  it('rejects environment ids that could escape the state directory', async () => {
    for (const id of ['..', '../x', 'a/b', '', '.hidden']) {
      const err = await backend.load(id).catch((e: unknown) => e);
      expect(BpError.is(err) && err.code, id).toBe('Usage');
    }
  });

  it('lists an environment whose journal survived but whose lock is gone', async () => {
    await stateWithJournal();
    expect(await backend.list()).toEqual(['demo']);
  });

  describe('lock holders in other processes', () => {
    it('takes over the lock of a holder that was killed with SIGKILL, and says so', async () => {
      const holder = spawnTs('hold-lock.ts', [stateDir, 'demo']);
      try {
        const line = await holder.waitForLine((l) => l.startsWith('locked '));
        const held = JSON.parse(line.slice('locked '.length)) as LockInfo;
        expect(held.pid).toBe(holder.child.pid);
        await killHard(holder);
        const takeovers: LockInfo[] = [];
        const s = await backend.lock('demo', {
          operation: 'apply',
          timeoutMs: 0,
          onTakeover: (p) => takeovers.push(p),
        });
        expect(takeovers).toEqual([held]);
        expect(await backend.lockHolder('demo')).toEqual(s.lock);
        await s.release();
      } finally {
        await killHard(holder);
      }
    }, 30_000);

    it('refuses a lock held by a live process, naming its pid and host', async () => {
      const holder = spawnTs('hold-lock.ts', [stateDir, 'demo']);
      try {
        await holder.waitForLine((l) => l.startsWith('locked '));
        const err = await backend.lock('demo', NOW).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LockHeldError);
        expect((err as Error).message).toContain(`pid ${holder.child.pid}`);
        expect((err as Error).message).toContain(hostname());
      } finally {
        await killHard(holder);
      }
    }, 30_000);
  });

  describe('stale lock detection', () => {
    async function plantLock(fields: Partial<LockInfo> & { pid_start?: string | null }): Promise<LockInfo> {
      const info: LockInfo = {
        id: 'planted-lock',
        pid: process.pid,
        host: hostname(),
        user: 'someone',
        operation: 'apply',
        created: '2025-01-01T00:00:00.000Z',
        ...fields,
      };
      await backend.lock('demo', NOW).then((s) => s.release()); // creates the directories
      await writeFile(file('lock.json'), JSON.stringify({ pid_start: null, ...info, ...fields }), { mode: 0o600 });
      return {
        id: info.id,
        pid: info.pid,
        host: info.host,
        user: info.user,
        operation: info.operation,
        created: info.created,
        ...(fields.pid_start != null ? { pid_start: fields.pid_start } : {}),
      };
    }

    it.runIf(processStartTime(process.pid) !== null)('sees through a recycled pid by its start time', async () => {
      const planted = await plantLock({ pid: process.pid, pid_start: '1' });
      const seen: LockInfo[] = [];
      const s = await backend.lock('demo', { ...NOW, onTakeover: (p) => seen.push(p) });
      expect(seen).toEqual([planted]);
      await s.release();
    });

    it('treats a live pid with a matching start time as a holder', async () => {
      await plantLock({ pid: process.pid, pid_start: processStartTime(process.pid) });
      await expect(backend.lock('demo', NOW)).rejects.toBeInstanceOf(LockHeldError);
    });

    it('never takes over a lock from another host, whose pids it cannot see', async () => {
      await plantLock({ host: `not-${hostname()}`, pid: 2 ** 22 + 7 });
      const err = await backend.lock('demo', NOW).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as Error).message).toContain(`not-${hostname()}`);
    });

    it("lets exactly one of many racers take over a dead holder's lock", async () => {
      for (let round = 0; round < 10; round++) {
        await plantLock({ id: `dead-${round}`, pid: 2 ** 22 + 7 });
        const racers = Array.from({ length: 6 }, () => new LocalStateBackend(stateDir));
        const results = await Promise.allSettled(racers.map((b) => b.lock('demo', NOW)));
        const winners = results.filter((r) => r.status === 'fulfilled');
        expect(winners, `round ${round}`).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockHeldError);
        await Promise.all(racers.map((b) => b.close()));
      }
    });
  });

  it('keeps every acknowledged record when the writer is killed with SIGKILL at random moments', async () => {
    let seed = 20250101;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 20; trial++) {
      const env = `crash-${trial}`;
      const writer = spawnTs('record-forever.ts', [stateDir, env]);
      try {
        await writer.waitForLine((l) => l === 'begun');
        await new Promise((r) => setTimeout(r, Math.floor(random() * 150)));
      } finally {
        await killHard(writer);
      }
      const acked = writer.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
      const loaded = (await backend.load(env))!;
      const recorded = Object.keys(loaded.pending)
        .map((id) => Number(id.slice('step-'.length)))
        .sort((a, b) => a - b);
      // Records are journaled in call order, so what survived is a prefix 0..k-1 ...
      expect(recorded, `trial ${trial}`).toEqual(recorded.map((_, i) => i));
      // ... and it holds everything that was acknowledged.
      for (const i of acked) expect(loaded.pending[`step-${i}`], `trial ${trial} ack ${i}`).toBeDefined();
    }
  }, 120_000);
});
