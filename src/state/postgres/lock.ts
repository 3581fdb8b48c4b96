/**
 * The environment lock: a session-level advisory lock on a connection dedicated to the
 * holder, plus the `bp_locks` row naming the holder. The advisory lock is the truth (the
 * server drops it the moment the holder's connection dies, kill -9 included); the row is
 * what lets messages and `bp state unlock` say who holds it. A row whose advisory lock is
 * free was left by a dead holder and is simply taken over.
 *
 * All of the holder's writes go through the same connection, so a holder whose session was
 * terminated by a force-unlock cannot write another byte: its lock and its pen die together.
 */
import type { Client, ClientConfig, Pool, QueryResult, QueryResultRow } from 'pg';
import { BpError, LockHeldError, UsageError, type LockInfo } from '../../model/errors.js';
import type { LockRequest } from '../backend.js';
import type { PostgresTarget } from './connection-config.js';
import { connectClient, inTransaction, run, type PgModule } from './driver.js';
import { ADVISORY_NAMESPACE } from './schema.js';

const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 500;
/** A holder between taking the advisory lock and writing its row is milliseconds away from naming itself. */
const UNNAMED_HOLDER_GRACE_MS = 250;
const TERMINATE_WAIT_MS = 5_000;

interface LockRow {
  lock_key: number;
  lock_id: string | null;
  pid: number | null;
  host: string | null;
  holder_user: string | null;
  operation: string | null;
  created: string | null;
  backend_pid: number | null;
}

/** The holder's dedicated connection. */
export class LockLink {
  private lostError: BpError | null = null;
  private ended = false;

  constructor(
    private readonly client: Client,
    readonly target: PostgresTarget,
    readonly environmentId: string,
    readonly key: number,
  ) {
    client.removeAllListeners('error');
    client.on('error', (e) => this.lose(e));
    client.on('end', () => this.lose(null));
  }

  get lost(): BpError | null {
    return this.lostError;
  }

  async query<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<QueryResult<R>> {
    if (this.lostError) throw this.lostError;
    try {
      return await run<R>(this.client, this.target, text, values);
    } catch (e) {
      // The failed statement often arrives before the client's 'error'/'end' event does.
      if (endsSession(e)) this.lose(causeOf(e));
      throw this.lostError ?? e;
    }
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lostError) return Promise.reject(this.lostError);
    return inTransaction(this.client, this.target, fn).catch((e: unknown) => {
      throw this.lostError ?? e;
    });
  }

  /** Closes the connection, which also frees the advisory lock if it is still held. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.lostError ??= new BpError('Internal', `the lock of environment "${this.environmentId}" was released`);
    await this.client.end().catch(() => undefined);
  }

  private lose(e: Error | null): void {
    if (this.ended || this.lostError) return;
    this.lostError = new BpError(
      'Provider',
      `lost the connection holding the lock of environment "${this.environmentId}" ` +
        `(${e?.message ?? 'closed by the server'}; it was force-unlocked, or the server restarted): ` +
        'everything recorded before this point is kept; run the command again',
      { cause: e ?? undefined },
    );
  }
}

/**
 * Whether a failed statement means the server ended this session (admin shutdown or
 * pg_terminate_backend: SQLSTATE class 57P0x; connection exceptions: class 08; or a
 * dropped socket), so the advisory lock it held is gone.
 */
function endsSession(e: unknown): boolean {
  const cause = causeOf(e) as (Error & { code?: string }) | null;
  if (cause === null) return false;
  const code = cause.code ?? '';
  if (/^57P0[1-3]$/.test(code) || code.startsWith('08')) return true;
  if (code === 'ECONNRESET' || code === 'EPIPE') return true;
  return /Connection terminated|Client has encountered a connection error/i.test(cause.message ?? '');
}

function causeOf(e: unknown): Error | null {
  if (!(e instanceof Error)) return null;
  return e.cause instanceof Error ? e.cause : e;
}

/** The environment's advisory-lock key, creating its bp_locks row on first use. */
export async function lockKey(pool: Pool, target: PostgresTarget, environmentId: string): Promise<number> {
  await run(pool, target, 'INSERT INTO bp_locks (environment_id) VALUES ($1) ON CONFLICT (environment_id) DO NOTHING', [
    environmentId,
  ]);
  const r = await run<{ lock_key: number }>(pool, target, 'SELECT lock_key FROM bp_locks WHERE environment_id = $1', [
    environmentId,
  ]);
  return r.rows[0].lock_key;
}

/**
 * Takes the lock for `info`, waiting up to `req.timeoutMs`. Returns the dedicated link
 * and the dead holder whose row was taken over, if any.
 */
export async function acquireLock(
  pg: PgModule,
  config: ClientConfig,
  target: PostgresTarget,
  environmentId: string,
  key: number,
  info: LockInfo,
  req: LockRequest,
): Promise<{ link: LockLink; previous: LockInfo | null }> {
  const { client } = await connectClient(pg, target, config);
  const link = new LockLink(client, target, environmentId, key);
  try {
    const started = Date.now();
    const deadline = started + Math.max(0, req.timeoutMs);
    let pollMs = FIRST_POLL_MS;
    for (;;) {
      const got = await link.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [
        ADVISORY_NAMESPACE,
        key,
      ]);
      if (got.rows[0].got) return { link, previous: await claimRow(link, info) };
      const holder = await readRow(onLink(link), environmentId);
      const named = holder?.lock_id != null;
      const remaining = deadline - Date.now();
      if (remaining <= 0 && (named || Date.now() - started >= UNNAMED_HOLDER_GRACE_MS)) {
        throw new LockHeldError(environmentId, named ? infoFromRow(holder) : unnamedHolder());
      }
      await sleep(Math.max(1, Math.min(pollMs, remaining > 0 ? remaining : FIRST_POLL_MS)));
      pollMs = Math.min(pollMs * 1.5, MAX_POLL_MS);
    }
  } catch (e) {
    await link.end();
    throw e;
  }
}

/** Writes the holder's row; we hold the advisory lock, so no other holder can be writing it. */
async function claimRow(link: LockLink, info: LockInfo): Promise<LockInfo | null> {
  return link.transaction(async () => {
    const before = await readRow(onLink(link), link.environmentId, 'FOR UPDATE');
    await link.query(
      `UPDATE bp_locks SET lock_id = $2, pid = $3, host = $4, holder_user = $5, operation = $6, created = $7,
         backend_pid = pg_backend_pid() WHERE environment_id = $1`,
      [link.environmentId, info.id, info.pid, info.host, info.user, info.operation, info.created],
    );
    return before?.lock_id != null ? infoFromRow(before) : null;
  });
}

/** Clears our row (only if it is still ours) and frees the advisory lock. */
export async function releaseLock(link: LockLink, lockId: string): Promise<void> {
  if (!link.lost) {
    try {
      await link.query(`UPDATE bp_locks SET ${CLEARED} WHERE environment_id = $1 AND lock_id = $2`, [
        link.environmentId,
        lockId,
      ]);
      // Unlock explicitly: closing the connection frees it too, but only once the server notices.
      await link.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_NAMESPACE, link.key]);
    } catch {
      // The connection is gone, and with it the advisory lock; a leftover row is taken over.
    }
  }
  await link.end();
}

const CLEARED =
  'lock_id = NULL, pid = NULL, host = NULL, holder_user = NULL, operation = NULL, created = NULL, backend_pid = NULL';

/** The row's holder if its advisory lock is really held by the session the row names. */
const LIVE_HOLDER = `
  SELECT l.* FROM bp_locks l
   WHERE l.environment_id = $1 AND l.lock_id IS NOT NULL
     AND EXISTS (SELECT 1 FROM pg_locks p
                  WHERE p.locktype = 'advisory' AND p.granted AND p.objsubid = 2
                    AND p.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    AND p.classid::bigint = $2 AND p.objid::bigint = l.lock_key AND p.pid = l.backend_pid)`;

export async function liveHolder(pool: Pool, target: PostgresTarget, environmentId: string): Promise<LockInfo | null> {
  const r = await run<LockRow>(pool, target, LIVE_HOLDER, [environmentId, ADVISORY_NAMESPACE]);
  return r.rows.length > 0 ? infoFromRow(r.rows[0]) : null;
}

/**
 * Operator override. Ends the holder's database session if it still holds the advisory
 * lock (which frees the lock and stops the holder writing), then clears the row.
 */
export async function forceUnlock(
  pool: Pool,
  target: PostgresTarget,
  environmentId: string,
  lockId: string,
): Promise<void> {
  const row = await readRow(onPool(pool, target), environmentId);
  if (row?.lock_id == null) {
    throw new UsageError(`state of environment "${environmentId}" is not locked; there is nothing to unlock`);
  }
  if (row.lock_id !== lockId) {
    const h = infoFromRow(row);
    throw new UsageError(
      `lock id "${lockId}" does not match the lock on environment "${environmentId}": it is held by ` +
        `${h.user}@${h.host} pid ${h.pid} (${h.operation}, since ${h.created}) with lock id "${h.id}"`,
    );
  }
  const live = await run<LockRow>(pool, target, LIVE_HOLDER, [environmentId, ADVISORY_NAMESPACE]);
  if (live.rows.length > 0) {
    const pid = live.rows[0].backend_pid;
    let ended: boolean;
    try {
      // The timeout form waits until the session is gone, so the lock is free when we return.
      ended = (
        await pool.query<{ ended: boolean }>('SELECT pg_terminate_backend($1, $2) AS ended', [pid, TERMINATE_WAIT_MS])
      ).rows[0].ended;
    } catch (e) {
      throw new BpError(
        'Provider',
        `cannot end the database session (backend pid ${pid}) holding the lock of environment "${environmentId}" on ${target.where}: ` +
          `${(e as Error).message}; the database role needs to be the holder's role, a superuser or a member of pg_signal_backend`,
        { cause: e },
      );
    }
    if (!ended)
      throw new BpError(
        'Provider',
        `the database session (backend pid ${pid}) holding the lock of environment "${environmentId}" did not end within ${TERMINATE_WAIT_MS / 1000}s`,
      );
  }
  await run(pool, target, `UPDATE bp_locks SET ${CLEARED} WHERE environment_id = $1 AND lock_id = $2`, [
    environmentId,
    lockId,
  ]);
}

type Querier = <R extends QueryResultRow>(text: string, values: unknown[]) => Promise<QueryResult<R>>;

async function readRow(query: Querier, environmentId: string, suffix = ''): Promise<LockRow | null> {
  const r = await query<LockRow>(`SELECT * FROM bp_locks WHERE environment_id = $1 ${suffix}`, [environmentId]);
  return r.rows[0] ?? null;
}

const onLink =
  (link: LockLink): Querier =>
  (text, values) =>
    link.query(text, values);
const onPool =
  (pool: Pool, target: PostgresTarget): Querier =>
  (text, values) =>
    run(pool, target, text, values);

function infoFromRow(r: LockRow): LockInfo {
  return {
    id: r.lock_id ?? 'unknown',
    pid: r.pid ?? 0,
    host: r.host ?? 'unknown',
    user: r.holder_user ?? 'unknown',
    operation: r.operation ?? 'unknown',
    created: r.created ?? '',
  };
}

/** A holder that took the advisory lock but has not written its row (yet, or ever: a foreign session). */
function unnamedHolder(): LockInfo {
  return {
    id: 'unknown',
    pid: 0,
    host: 'unknown',
    user: 'unknown',
    operation: 'taking or releasing the lock',
    created: new Date().toISOString(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
