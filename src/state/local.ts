/**
 * State in local files (`--state-dir`, default `./.bp`). Per environment, under
 * `DIR/envs/ENV/` (directories 0700, files 0600: state can name hosts and outputs):
 *
 *   state.json         the snapshot, replaced atomically
 *   state.json.backup  the snapshot before that one
 *   journal.ndjson     mutations recorded since the snapshot (header line + one line per record)
 *   lock.json          the writer's lock
 *
 * `begin(base)` writes `base` as the new serial's snapshot and starts a journal whose header
 * names that serial; `record` appends to the journal; `checkpoint` writes a new snapshot and
 * restarts the journal. Loading = snapshot + the journal, if its header names the
 * snapshot's serial. Crash windows this leaves, and why each is safe:
 * - begin dies after the snapshot, before the journal: the old journal's header names the
 *   previous serial, so it is ignored; its mutations were already in `base`.
 * - checkpoint dies after the snapshot, before the journal restarts: the journal is replayed
 *   onto a snapshot that already contains it. Mutations are whole-value puts and deletes
 *   keyed by id, so replaying a sequence twice gives the same state as replaying it once.
 */
import { withIo } from '../model/io-error.js';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BpError, StaleStateError, StateCorruptError, UsageError, type LockInfo } from '../model/errors.js';
import { applyMutation, type Mutation, type RecordedState } from '../model/state.js';
import type { LockRequest, StateBackend, StateSession } from './backend.js';
import { fsyncDirectory, TEMP_MARKER } from './durable.js';
import { acquireFileLock, forceUnlockFile, newLockInfo, readLockHolder, releaseFileLock } from './file-lock.js';
import { JOURNAL_FORMAT, JournalWriter, parseJournal, type JournalHeader } from './journal.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
import { assertSessionEnvironment, assertSessionOpen } from './session-guards.js';

const ENVIRONMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** A lock-free load can interleave with a writer's begin; looking again resolves it. */
const LOAD_ATTEMPTS = 3;

export interface EnvironmentPaths {
  dir: string;
  snapshot: string;
  backup: string;
  journal: string;
  lock: string;
}

/** Counters for benchmarks and tests. */
export interface LocalStateStats {
  fsyncs: number;
  journalRecords: number;
}

export class LocalStateBackend implements StateBackend {
  readonly description: string;
  readonly stats: LocalStateStats = { fsyncs: 0, journalRecords: 0 };
  private readonly sessions = new Set<LocalStateSession>();

  constructor(readonly dir: string) {
    this.description = `local state in ${dir}`;
  }

  paths(environmentId: string): EnvironmentPaths {
    if (!ENVIRONMENT_ID.test(environmentId)) {
      throw new UsageError(
        `"${environmentId}" is not a valid environment id (letters, digits, ".", "_", "-"; at most 63)`,
      );
    }
    const dir = join(this.dir, 'envs', environmentId);
    const snapshot = join(dir, 'state.json');
    return {
      dir,
      snapshot,
      backup: `${snapshot}.backup`,
      journal: join(dir, 'journal.ndjson'),
      lock: join(dir, 'lock.json'),
    };
  }

  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(join(this.dir, 'envs'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const found: string[] = [];
    for (const id of entries) {
      if (!ENVIRONMENT_ID.test(id)) continue;
      const p = this.paths(id);
      if ((await exists(p.snapshot)) || (await exists(p.journal))) found.push(id);
    }
    return found.sort();
  }

  async load(environmentId: string): Promise<RecordedState | null> {
    const p = this.paths(environmentId);
    for (let attempt = 1; ; attempt++) {
      const result = await this.loadOnce(p, environmentId);
      if (result.kind === 'state') return result.state;
      if (attempt >= LOAD_ATTEMPTS) throw await corruptError(p, result.where, result.problem);
    }
  }

  private async loadOnce(
    p: EnvironmentPaths,
    environmentId: string,
  ): Promise<
    { kind: 'state'; state: RecordedState | null } | { kind: 'inconsistent'; where: string; problem: string }
  > {
    const snapshot = await readSnapshot(p, environmentId, (where, problem) => corruptError(p, where, problem));
    const text = await readFile(p.journal, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    const journal = text === null ? null : parseJournalOrThrow(text, p, await backupExists(p));
    if (journal === null) return { kind: 'state', state: snapshot };
    const h = journal.header;
    if (snapshot === null) {
      return {
        kind: 'inconsistent',
        where: p.journal,
        problem: `journal exists but the snapshot ${p.snapshot} does not`,
      };
    }
    if (h.environment_id !== environmentId || h.lineage !== snapshot.lineage) {
      return {
        kind: 'inconsistent',
        where: `${p.journal}:1`,
        problem: `journal belongs to lineage ${h.lineage}, the snapshot to ${snapshot.lineage}`,
      };
    }
    // An older journal was folded into this snapshot by begin(); see the header comment.
    if (h.serial < snapshot.serial) return { kind: 'state', state: snapshot };
    if (h.serial > snapshot.serial) {
      return {
        kind: 'inconsistent',
        where: `${p.journal}:1`,
        problem: `journal is for serial ${h.serial} but the snapshot is serial ${snapshot.serial}`,
      };
    }
    for (const batch of journal.batches) for (const m of batch) applyMutation(snapshot, m);
    return { kind: 'state', state: snapshot };
  }

  async lock(environmentId: string, req: LockRequest): Promise<StateSession> {
    const p = this.paths(environmentId);
    await ensurePrivateDirs([this.dir, join(this.dir, 'envs'), p.dir]);
    const info = newLockInfo(req.operation);
    await acquireFileLock(p.lock, environmentId, info, req);
    try {
      await removeCrashDebris(p);
      const state = await this.load(environmentId);
      const session = new LocalStateSession(this, p, environmentId, info, state);
      this.sessions.add(session);
      return session;
    } catch (e) {
      await releaseFileLock(p.lock, info.id);
      throw e;
    }
  }

  lockHolder(environmentId: string): Promise<LockInfo | null> {
    return readLockHolder(this.paths(environmentId).lock);
  }

  forceUnlock(environmentId: string, lockId: string): Promise<void> {
    return forceUnlockFile(this.paths(environmentId).lock, environmentId, lockId);
  }

  /** Releases every lock this backend still holds. */
  async close(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.release()));
  }

  /** @internal */
  forget(session: LocalStateSession): void {
    this.sessions.delete(session);
  }
}

class LocalStateSession implements StateSession {
  /** Lineage and serial on disk now; null until the environment has state. */
  private current: { lineage: string; serial: number } | null;
  private journal: JournalWriter | null = null;
  /** Records wait for a checkpoint in progress so none lands in the journal it discards. */
  private checkpointing: Promise<void> | null = null;
  private released: Promise<void> | null = null;
  private readonly countSync = (): void => {
    this.backend.stats.fsyncs++;
  };

  constructor(
    private readonly backend: LocalStateBackend,
    private readonly p: EnvironmentPaths,
    private readonly environmentId: string,
    readonly lock: LockInfo,
    readonly state: RecordedState | null,
  ) {
    this.current = state ? { lineage: state.lineage, serial: state.serial } : null;
  }

  async begin(base: RecordedState): Promise<void> {
    assertSessionOpen(this.released, 'begin');
    assertSessionEnvironment(this.environmentId, base);
    const cur = this.current;
    if (cur && (base.lineage !== cur.lineage || base.serial !== cur.serial)) {
      throw new StaleStateError(
        `cannot write state of environment "${this.environmentId}": it is serial ${cur.serial} of lineage ${cur.lineage}, ` +
          `but the update was prepared from serial ${base.serial} of lineage ${base.lineage || '(none)'}; plan again`,
      );
    }
    const next = { lineage: base.lineage || randomUUID(), serial: base.serial + 1 };
    await this.journal?.close();
    this.journal = null;
    await writeSnapshot(this.p, { ...base, ...next }, this.countSync);
    this.current = next;
    this.journal = await JournalWriter.create(this.p.journal, this.header(), this.countSync);
  }

  async record(mutations: Mutation[]): Promise<void> {
    assertSessionOpen(this.released, 'record');
    while (this.checkpointing) await this.checkpointing;
    if (!this.journal) throw new BpError('Internal', 'StateSession.record called before begin');
    if (mutations.length === 0) return;
    this.backend.stats.journalRecords++;
    return this.journal.append(mutations);
  }

  /** Writes `state` as this serial's snapshot; its lineage and serial are taken from the session. */
  async checkpoint(state: RecordedState): Promise<void> {
    assertSessionOpen(this.released, 'checkpoint');
    assertSessionEnvironment(this.environmentId, state);
    while (this.checkpointing) await this.checkpointing;
    const journal = this.journal;
    const cur = this.current;
    if (!journal || !cur) throw new BpError('Internal', 'StateSession.checkpoint called before begin');
    const run = (async () => {
      await journal.idle();
      await writeSnapshot(this.p, { ...state, lineage: cur.lineage, serial: cur.serial }, this.countSync);
      await journal.close();
      this.journal = await JournalWriter.create(this.p.journal, this.header(), this.countSync);
    })();
    this.checkpointing = run;
    try {
      await run;
    } finally {
      this.checkpointing = null;
    }
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      try {
        while (this.checkpointing) await this.checkpointing.catch(() => undefined);
        await this.journal?.close();
      } finally {
        await releaseFileLock(this.p.lock, this.lock.id);
        this.backend.forget(this);
      }
    })();
    return this.released;
  }

  private header(): JournalHeader {
    const cur = this.current as { lineage: string; serial: number };
    return {
      format_version: JOURNAL_FORMAT,
      environment_id: this.environmentId,
      lineage: cur.lineage,
      serial: cur.serial,
    };
  }
}

function parseJournalOrThrow(text: string, p: EnvironmentPaths, hasBackup: boolean) {
  return parseJournal(
    text,
    (line, problem) => new StateCorruptError(corruptMessage(p, `${p.journal}:${line}`, problem, hasBackup)),
  );
}

async function corruptError(p: EnvironmentPaths, where: string, problem: string): Promise<StateCorruptError> {
  return new StateCorruptError(corruptMessage(p, where, problem, await backupExists(p)));
}

function corruptMessage(p: EnvironmentPaths, where: string, problem: string, hasBackup: boolean): string {
  const recovery = hasBackup
    ? `a backup of the previous snapshot exists at ${p.backup}; inspect it and copy it over ${p.snapshot} to recover`
    : `no backup exists (${p.backup} is missing)`;
  return `recorded state is corrupt: ${where}: ${problem}; ${recovery}`;
}

function backupExists(p: EnvironmentPaths): Promise<boolean> {
  return exists(p.backup);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Creates missing directories owner-only; directories that already exist are left as they are. */
async function ensurePrivateDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) await withIo('create state folder', dir, () => ensurePrivateDir(dir));
}

async function ensurePrivateDir(dir: string): Promise<void> {
  {
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code === 'ENOENT') {
        // A parent outside our layout (say --state-dir a/b/c) is missing: create it normally.
        await mkdir(dirname(dir), { recursive: true });
        await mkdir(dir, { mode: 0o700 });
      } else {
        throw e;
      }
    }
    await chmod(dir, 0o700); // mkdir's mode is filtered by the umask
    await fsyncDirectory(dirname(dir));
  }
}

/** Temp files of writers that crashed mid-write; only the lock holder may remove them. */
async function removeCrashDebris(p: EnvironmentPaths): Promise<void> {
  for (const name of await readdir(p.dir)) {
    const ours = name.startsWith('state.json') || name.startsWith('journal.ndjson');
    if (ours && name.includes(TEMP_MARKER)) await unlink(join(p.dir, name)).catch(() => undefined);
  }
}
