/**
 * A locked writer on PostgreSQL. Every write goes through the holder's lock connection, one
 * at a time, in call order:
 *
 * - `begin(base)`  one transaction: checks the row is still `base`'s lineage and serial
 *                  (FOR UPDATE), writes `base` as serial+1, clears the journal.
 * - `record(m)`    one journal row per call. Calls that arrive while a write is in flight
 *                  are group-committed: one INSERT (one commit, one WAL flush) for all.
 * - `checkpoint`   one transaction: writes the document only if the row still has this
 *                  session's lineage and serial (no lost update), and clears the journal.
 *
 * Journal inserts also check lineage and serial, so no row can attach to a serial that
 * has moved on. Loading = document + journal rows of its serial, in one statement.
 */
import { randomUUID } from 'node:crypto';
import { BpError, StaleStateError, type LockInfo } from '../../model/errors.js';
import type { Mutation, RecordedState } from '../../model/state.js';
import type { StateSession } from '../backend.js';
import { releaseLock, type LockLink } from './lock.js';
import { assertSessionEnvironment, assertSessionOpen } from '../session-guards.js';

export interface PostgresStateStats {
  /** `record` calls with at least one mutation. */
  journalRecords: number;
  /** INSERT statements (commits) those records took. */
  journalWrites: number;
}

type Write =
  | { kind: 'record'; mutations: Mutation[]; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'exclusive'; run: () => Promise<void>; resolve: () => void; reject: (e: unknown) => void };

export class PostgresStateSession implements StateSession {
  /** Lineage and serial of the row as this session last wrote it; null before begin. */
  private current: { lineage: string; serial: number } | null = null;
  private seq = 0;
  private readonly queue: Write[] = [];
  private draining: Promise<void> | null = null;
  private released: Promise<void> | null = null;

  constructor(
    private readonly link: LockLink,
    readonly lock: LockInfo,
    readonly state: RecordedState | null,
    private readonly stats: PostgresStateStats,
    private readonly onRelease: (s: PostgresStateSession) => void,
  ) {}

  private get environmentId(): string {
    return this.link.environmentId;
  }

  async begin(base: RecordedState): Promise<void> {
    assertSessionOpen(this.released, 'begin');
    assertSessionEnvironment(this.environmentId, base);
    await this.exclusive(async () => {
      const next = { lineage: base.lineage || randomUUID(), serial: base.serial + 1 };
      await this.link.transaction(async () => {
        const row = await this.link.query<{ lineage: string; serial: string }>(
          'SELECT lineage, serial FROM bp_states WHERE environment_id = $1 FOR UPDATE',
          [this.environmentId],
        );
        const cur = row.rows[0];
        if (cur && (cur.lineage !== base.lineage || Number(cur.serial) !== base.serial)) {
          throw new StaleStateError(
            `cannot write state of environment "${this.environmentId}": it is serial ${cur.serial} of lineage ${cur.lineage}, ` +
              `but the update was prepared from serial ${base.serial} of lineage ${base.lineage || '(none)'}; plan again`,
          );
        }
        await this.link.query(
          `INSERT INTO bp_states (environment_id, lineage, serial, document) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (environment_id) DO UPDATE
             SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, document = EXCLUDED.document, updated_at = now()`,
          [this.environmentId, next.lineage, next.serial, JSON.stringify({ ...base, ...next })],
        );
        await this.link.query('DELETE FROM bp_journal WHERE environment_id = $1', [this.environmentId]);
      });
      this.current = next;
      this.seq = 0;
    });
  }

  async record(mutations: Mutation[]): Promise<void> {
    assertSessionOpen(this.released, 'record');
    if (!this.current) throw new BpError('Internal', 'StateSession.record called before begin');
    if (mutations.length === 0) return;
    this.stats.journalRecords++;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'record', mutations, resolve, reject });
      this.kick();
    });
  }

  /** Writes `state` as this serial's document; its lineage and serial are taken from the session. */
  async checkpoint(state: RecordedState): Promise<void> {
    assertSessionOpen(this.released, 'checkpoint');
    assertSessionEnvironment(this.environmentId, state);
    if (!this.current) throw new BpError('Internal', 'StateSession.checkpoint called before begin');
    await this.exclusive(async () => {
      const cur = this.current as { lineage: string; serial: number };
      await this.link.transaction(async () => {
        const updated = await this.link.query(
          `UPDATE bp_states SET document = $4::jsonb, updated_at = now()
            WHERE environment_id = $1 AND lineage = $2 AND serial = $3`,
          [this.environmentId, cur.lineage, cur.serial, JSON.stringify({ ...state, ...cur })],
        );
        if (updated.rowCount !== 1) throw this.moved();
        await this.link.query('DELETE FROM bp_journal WHERE environment_id = $1', [this.environmentId]);
      });
    });
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      try {
        while (this.draining) await this.draining;
      } finally {
        await releaseLock(this.link, this.lock.id);
        this.onRelease(this);
      }
    })();
    return this.released;
  }

  private exclusive(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'exclusive', run, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    // Deferred by a microtask so calls made in the same tick share the first commit too.
    this.draining ??= Promise.resolve().then(() => this.drain());
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.kind === 'exclusive') {
        this.queue.shift();
        await head.run().then(head.resolve, head.reject);
        continue;
      }
      let n = 0;
      while (n < this.queue.length && this.queue[n].kind === 'record') n++;
      const batch = this.queue.splice(0, n) as Array<Extract<Write, { kind: 'record' }>>;
      await this.insertJournal(batch.map((w) => w.mutations)).then(
        () => batch.forEach((w) => w.resolve()),
        (e: unknown) => batch.forEach((w) => w.reject(e)),
      );
    }
    this.draining = null;
  }

  /** One INSERT for many record calls, each its own row, numbered in call order. */
  private async insertJournal(batches: Mutation[][]): Promise<void> {
    const cur = this.current as { lineage: string; serial: number };
    const first = this.seq;
    this.seq += batches.length;
    this.stats.journalWrites++;
    const r = await this.link.query(
      `INSERT INTO bp_journal (environment_id, serial, seq, mutations)
       SELECT $1, $2, $4 + e.ord::integer, e.m FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(m, ord)
        WHERE EXISTS (SELECT 1 FROM bp_states WHERE environment_id = $1 AND lineage = $3 AND serial = $2)`,
      [this.environmentId, cur.serial, cur.lineage, first, JSON.stringify(batches)],
    );
    if (r.rowCount !== batches.length) throw this.moved();
  }

  /** The row is no longer at this session's serial: someone wrote without the lock. */
  private moved(): StaleStateError {
    const cur = this.current as { lineage: string; serial: number };
    return new StaleStateError(
      `state of environment "${this.environmentId}" is no longer serial ${cur.serial} of lineage ${cur.lineage}: ` +
        'another writer changed it without holding the lock; this write was refused so nothing is lost; plan again',
    );
  }
}
