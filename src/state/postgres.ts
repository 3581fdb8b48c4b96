/**
 * State in PostgreSQL (`--backend postgres://...`, env BP_BACKEND), for teams whose CI
 * runners and operators share environments. Same semantics as the local backend, proven by
 * the same suite (test/state/backend-suite.ts):
 *
 * - the schema is created on first use and versioned (./postgres/schema.ts);
 * - a writer holds a session-level advisory lock on a connection of its own, plus a row
 *   naming it (./postgres/lock.ts); the server frees the lock when that connection dies;
 * - writes are transactions that check lineage and serial (./postgres/session.ts);
 * - readers (`load`, `list`, `lockHolder`) use a small pool and never wait for writers.
 *
 * `pg` is imported only here, and this module only when a PostgreSQL URL is used.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { ClientConfig, Pool } from 'pg';
import { UsageError, type LockInfo } from '../model/errors.js';
import { ID_PATTERN } from '../model/environment.js';
import type { RecordedState } from '../model/state.js';
import type { LockRequest, StateBackend, StateSession } from './backend.js';
import { currentUser } from './process-liveness.js';
import { parsePostgresUrl, type PostgresTarget } from './postgres/connection-config.js';
import { stateFromRow, type StateRow } from './postgres/document.js';
import { connectClient, loadPg, run, type PgModule } from './postgres/driver.js';
import { acquireLock, forceUnlock, liveHolder, lockKey, releaseLock } from './postgres/lock.js';
import { migrate } from './postgres/schema.js';
import { PostgresStateSession, type PostgresStateStats } from './postgres/session.js';

export { parsePostgresUrl, redactUrl } from './postgres/connection-config.js';
export type { PostgresStateStats } from './postgres/session.js';

/** Few connections: readers are short, and each writer brings its own lock connection. */
const POOL_MAX = 4;
const POOL_IDLE_MS = 10_000;
const ENVIRONMENT_ID = new RegExp(ID_PATTERN);

/** Opens the backend for `url`; connects lazily, on first use. */
export async function openPostgresStateBackend(url: string): Promise<PostgresStateBackend> {
  const target = parsePostgresUrl(url);
  return new PostgresStateBackend(target, await loadPg());
}

interface Connected {
  pool: Pool;
  /** The client config that worked (TLS or not), reused for lock connections. */
  config: ClientConfig;
}

export class PostgresStateBackend implements StateBackend {
  readonly description: string;
  readonly stats: PostgresStateStats = { journalRecords: 0, journalWrites: 0 };
  private connected: Promise<Connected> | null = null;
  private readonly sessions = new Set<PostgresStateSession>();

  constructor(
    readonly target: PostgresTarget,
    private readonly pg: PgModule,
  ) {
    this.description = `PostgreSQL state in ${target.redacted}`;
  }

  async list(): Promise<string[]> {
    const { pool } = await this.connect();
    const r = await run<{ environment_id: string }>(pool, this.target, 'SELECT environment_id FROM bp_states');
    return r.rows.map((x) => x.environment_id).sort();
  }

  async load(environmentId: string): Promise<RecordedState | null> {
    checkId(environmentId);
    const { pool } = await this.connect();
    // One statement, one snapshot: the document and exactly the journal rows of its serial.
    const r = await run<StateRow>(
      pool,
      this.target,
      `SELECT s.lineage, s.serial, s.document,
              coalesce((SELECT jsonb_agg(j.mutations ORDER BY j.seq) FROM bp_journal j
                         WHERE j.environment_id = s.environment_id AND j.serial = s.serial), '[]'::jsonb) AS journal
         FROM bp_states s WHERE s.environment_id = $1`,
      [environmentId],
    );
    return r.rows.length === 0 ? null : stateFromRow(r.rows[0], environmentId, this.target.where);
  }

  async lock(environmentId: string, req: LockRequest): Promise<StateSession> {
    checkId(environmentId);
    const { pool, config } = await this.connect();
    const key = await lockKey(pool, this.target, environmentId);
    const info: LockInfo = {
      id: randomUUID(),
      pid: process.pid,
      host: hostname(),
      user: currentUser(),
      operation: req.operation,
      created: new Date().toISOString(),
    };
    const { link, previous } = await acquireLock(this.pg, config, this.target, environmentId, key, info, req);
    let state: RecordedState | null;
    try {
      state = await this.load(environmentId);
    } catch (e) {
      await releaseLock(link, info.id);
      throw e;
    }
    if (previous) req.onTakeover?.(previous);
    const session = new PostgresStateSession(link, info, state, this.stats, (s) => this.sessions.delete(s));
    this.sessions.add(session);
    return session;
  }

  async lockHolder(environmentId: string): Promise<LockInfo | null> {
    checkId(environmentId);
    const { pool } = await this.connect();
    return liveHolder(pool, this.target, environmentId);
  }

  async forceUnlock(environmentId: string, lockId: string): Promise<void> {
    checkId(environmentId);
    const { pool } = await this.connect();
    await forceUnlock(pool, this.target, environmentId, lockId);
  }

  /** Releases every lock this backend still holds and closes the pool. */
  async close(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.release()));
    const connected = this.connected;
    this.connected = null;
    if (connected)
      await connected.then(
        (c) => c.pool.end(),
        () => undefined,
      );
  }

  /** Connects (settling TLS) and migrates once; a failure is retried by the next call. */
  private connect(): Promise<Connected> {
    this.connected ??= (async () => {
      const { client, config } = await connectClient(this.pg, this.target);
      try {
        await migrate(client, this.target);
      } finally {
        await client.end().catch(() => undefined);
      }
      const pool = new this.pg.Pool({
        ...config,
        max: POOL_MAX,
        idleTimeoutMillis: POOL_IDLE_MS,
        allowExitOnIdle: true,
      });
      // An idle pooled connection dropped by the server must not crash bp; the next query reconnects.
      pool.on('error', () => undefined);
      return { pool, config };
    })().catch((e: unknown) => {
      this.connected = null;
      throw e;
    });
    return this.connected;
  }
}

function checkId(environmentId: string): void {
  if (!ENVIRONMENT_ID.test(environmentId)) {
    throw new UsageError(
      `"${environmentId}" is not a valid environment id (letters, digits, ".", "_", "-"; at most 63)`,
    );
  }
}
