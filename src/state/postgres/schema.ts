/**
 * The database schema, created on first use and evolved by numbered migrations recorded in
 * `bp_schema_migrations`. Migrations run in one transaction under an advisory lock, so many
 * bp processes starting at once against an empty database create the tables exactly once.
 * A database migrated by a newer bp is refused rather than misread.
 *
 *   bp_states   one row per environment: lineage, serial and the state document (jsonb)
 *   bp_journal  mutations recorded since that document, one row per `record` call
 *   bp_locks    one row per environment ever locked: its advisory-lock key and the holder
 */
import type { Client } from 'pg';
import { BpError } from '../../model/errors.js';
import type { PostgresTarget } from './connection-config.js';
import { inTransaction, queryError, run } from './driver.js';

/** First key of every advisory lock bp takes ('bp' in ASCII), so it never collides with another application's. */
export const ADVISORY_NAMESPACE = 0x62700000;
/** Second key of the lock that serializes migrations; environment keys start at 1. */
const MIGRATION_LOCK_KEY = 0;

interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'state, journal and lock tables',
    sql: `
      CREATE TABLE bp_states (
        environment_id text PRIMARY KEY,
        lineage        text NOT NULL,
        serial         bigint NOT NULL CHECK (serial >= 0),
        document       jsonb NOT NULL,
        updated_at     timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE bp_journal (
        environment_id text NOT NULL REFERENCES bp_states ON DELETE CASCADE,
        serial         bigint NOT NULL,
        seq            integer NOT NULL,
        mutations      jsonb NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (environment_id, serial, seq)
      );
      CREATE TABLE bp_locks (
        environment_id text PRIMARY KEY,
        -- The advisory lock is (ADVISORY_NAMESPACE, lock_key): a key per environment, never a hash, so two environments never share a lock.
        lock_key       integer GENERATED ALWAYS AS IDENTITY UNIQUE,
        lock_id        text,
        pid            integer,
        host           text,
        holder_user    text,
        operation      text,
        created        text,
        -- pg_backend_pid() of the holder's session: what forceUnlock terminates.
        backend_pid    integer
      );`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Brings the schema up to SCHEMA_VERSION; cheap (one query) when it already is. */
export async function migrate(client: Client, target: PostgresTarget): Promise<void> {
  const current = await installedVersion(client, target);
  if (current === SCHEMA_VERSION) return;
  if (current !== null && current > SCHEMA_VERSION) throw tooNew(current, target);
  await inTransaction(client, target, async () => {
    await run(client, target, 'SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_NAMESPACE, MIGRATION_LOCK_KEY]);
    await run(
      client,
      target,
      `CREATE TABLE IF NOT EXISTS bp_schema_migrations (
         version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    // Read again under the lock: another process may have migrated while we waited.
    const done = new Set(
      (await run<{ version: number }>(client, target, 'SELECT version FROM bp_schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    const newest = Math.max(0, ...done);
    if (newest > SCHEMA_VERSION) throw tooNew(newest, target);
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await run(client, target, m.sql);
      await run(client, target, 'INSERT INTO bp_schema_migrations (version, description) VALUES ($1, $2)', [
        m.version,
        m.description,
      ]);
    }
  });
}

async function installedVersion(client: Client, target: PostgresTarget): Promise<number | null> {
  try {
    const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM bp_schema_migrations');
    return r.rows[0]?.v ?? null;
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return null; // undefined_table: a fresh database
    throw queryError(e, target);
  }
}

function tooNew(version: number, target: PostgresTarget): BpError {
  return new BpError(
    'StateCorrupt',
    `the PostgreSQL state backend at ${target.where} has schema version ${version}, newer than this bp understands (${SCHEMA_VERSION}); upgrade bp`,
  );
}
