import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BpError, LockHeldError, type LockInfo } from '../../src/model/errors.js';
import { applyMutation } from '../../src/model/state.js';
import { openPostgresStateBackend, type PostgresStateBackend } from '../../src/state/postgres.js';
import { SCHEMA_VERSION } from '../../src/state/postgres/schema.js';
import { stateBackendSuite } from './backend-suite.js';
import { freshState, pendingStart, revision } from './builders.js';
import { killHard, spawnTs } from './child.js';
import { startCluster, type Cluster } from './pg/cluster.js';

const NOW = { operation: 'test', timeoutMs: 0 };

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

/** One database, emptied for each test (cheaper than CREATE DATABASE); the schema is created on first use each time. */
let suiteUrl: string | null = null;
stateBackendSuite('PostgresStateBackend', async () => {
  suiteUrl ??= await cluster.createDatabase('bp_suite');
  await cluster.sql(dbOf(suiteUrl), 'DROP TABLE IF EXISTS bp_journal, bp_states, bp_locks, bp_schema_migrations');
  return { backend: await openPostgresStateBackend(suiteUrl), cleanup: async () => undefined };
});

function dbOf(url: string): string {
  return new URL(url.replace('@/', '@x/')).pathname.slice(1);
}

describe('PostgresStateBackend (PostgreSQL)', () => {
  let url: string;
  let db: string;
  let backend: PostgresStateBackend;

  beforeEach(async () => {
    url = await cluster.createDatabase();
    db = dbOf(url);
    backend = await openPostgresStateBackend(url);
  });
  afterEach(async () => {
    await backend.close();
  });

  it('creates a versioned schema on first use, once, however many processes start at once', async () => {
    const many = await Promise.all(Array.from({ length: 8 }, () => openPostgresStateBackend(url)));
    await Promise.all(many.map((b) => b.list()));
    await Promise.all(many.map((b) => b.close()));
    const versions = await cluster.sql<{ version: number }>(db, 'SELECT version FROM bp_schema_migrations');
    expect(versions).toEqual([{ version: SCHEMA_VERSION }]);
    const tables = await cluster.sql<{ t: string }>(
      db,
      "SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'bp\\_%' ORDER BY 1",
    );
    expect(tables.map((r) => r.t)).toEqual(['bp_journal', 'bp_locks', 'bp_schema_migrations', 'bp_states']);
  });

  it('refuses a database migrated by a newer bp', async () => {
    await backend.list();
    await cluster.sql(db, "INSERT INTO bp_schema_migrations (version, description) VALUES (999, 'from the future')");
    const fresh = await openPostgresStateBackend(url);
    await expect(fresh.list()).rejects.toThrow(/schema version 999, newer than this bp understands/);
    await fresh.close();
  });

  it('keeps one row per environment with lineage, serial and the document, and journal rows until the checkpoint', async () => {
    const s = await backend.lock('demo', NOW);
    const state = freshState('demo');
    await s.begin(state);
    const m = { kind: 'revision' as const, revision: revision('web-v1') };
    await s.record([m]);
    await s.record([pendingStart('warm:web/web-v1')]);
    const rows = await cluster.sql<{ lineage: string; serial: string }>(db, 'SELECT lineage, serial FROM bp_states');
    expect(rows).toEqual([{ lineage: state.lineage, serial: '1' }]);
    expect(await cluster.sql(db, 'SELECT serial, seq FROM bp_journal ORDER BY seq')).toEqual([
      { serial: '1', seq: 1 },
      { serial: '1', seq: 2 },
    ]);
    applyMutation(state, m);
    await s.checkpoint(state);
    expect(await cluster.sql(db, 'SELECT * FROM bp_journal')).toEqual([]);
    const [doc] = await cluster.sql<{ d: { serial: number; revisions: object } }>(
      db,
      'SELECT document AS d FROM bp_states',
    );
    expect(doc.d.serial).toBe(1);
    expect(Object.keys(doc.d.revisions)).toEqual(['web-v1']);
    await s.release();
  });

  it('refuses a write once the row moved under the writer (no lost update), keeping what the other wrote', async () => {
    const s = await backend.lock('demo', NOW);
    await s.begin(freshState('demo'));
    // A writer that ignored the lock (or a hand edit) moves the row on.
    await cluster.sql(db, "UPDATE bp_states SET serial = 7, document = jsonb_set(document, '{serial}', '7')");
    const recordErr = await s.record([pendingStart('late')]).catch((e: unknown) => e);
    expect(BpError.is(recordErr) && recordErr.code).toBe('StaleState');
    const checkpointErr = await s.checkpoint(freshState('demo')).catch((e: unknown) => e);
    expect(BpError.is(checkpointErr) && checkpointErr.code).toBe('StaleState');
    expect((checkpointErr as Error).message).toMatch(/no longer serial 1/);
    await s.release();
    expect((await backend.load('demo'))!.serial).toBe(7);
    expect((await backend.load('demo'))!.pending).toEqual({});
  });

  it('group-commits concurrent records into far fewer INSERTs than records', async () => {
    const s = await backend.lock('demo', NOW);
    await s.begin(freshState('demo'));
    const before = { ...backend.stats };
    await Promise.all(Array.from({ length: 100 }, (_, i) => s.record([pendingStart(`s${i}`)])));
    const writes = backend.stats.journalWrites - before.journalWrites;
    expect(backend.stats.journalRecords - before.journalRecords).toBe(100);
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThan(10);
    await s.release();
    expect(Object.keys((await backend.load('demo'))!.pending)).toHaveLength(100);
  });

  it('reports a corrupt document naming the table and environment', async () => {
    const s = await backend.lock('demo', NOW);
    await s.begin(freshState('demo'));
    await s.release();
    await cluster.sql(db, `UPDATE bp_states SET document = jsonb_set(document, '{format_version}', '"bp.state/v99"')`);
    const err = await backend.load('demo').catch((e: unknown) => e);
    expect(BpError.is(err) && err.code).toBe('StateCorrupt');
    expect((err as Error).message).toMatch(/bp_states row of environment "demo".*format_version "bp\.state\/v99"/);
    // A writer cannot start on top of it either, and leaves no lock behind.
    await expect(backend.lock('demo', NOW)).rejects.toThrow(/corrupt/);
    expect(await backend.lockHolder('demo')).toBeNull();
  });

  it('rejects environment ids that are not ids', async () => {
    for (const id of ['..', 'a/b', '', "x'; DROP TABLE bp_states; --"]) {
      const err = await backend.load(id).catch((e: unknown) => e);
      expect(BpError.is(err) && err.code, id).toBe('Usage');
    }
  });

  describe('lock holders in other processes', () => {
    it('frees the lock of a holder killed with SIGKILL at once, and the next writer takes over its row', async () => {
      const holder = spawnTs('../pg/hold-lock.ts', [url, 'demo']);
      try {
        const line = await holder.waitForLine((l) => l.startsWith('locked '));
        const held = JSON.parse(line.slice('locked '.length)) as LockInfo;
        expect(held.pid).toBe(holder.child.pid);
        expect(await backend.lockHolder('demo')).toEqual(held);
        const err = await backend.lock('demo', NOW).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LockHeldError);
        expect((err as Error).message).toContain(`pid ${holder.child.pid}`);
        await killHard(holder);
        const takeovers: LockInfo[] = [];
        // The server notices the closed connection within milliseconds; allow it a moment.
        const s = await backend.lock('demo', {
          operation: 'apply',
          timeoutMs: 2000,
          onTakeover: (p) => takeovers.push(p),
        });
        expect(takeovers).toEqual([held]);
        expect(await backend.lockHolder('demo')).toEqual(s.lock);
        // What the killed holder recorded is there for the next writer.
        expect(Object.keys(s.state!.pending)).toContain('hold-0');
        await s.release();
      } finally {
        await killHard(holder);
      }
    });

    it("force-unlock ends the holder's database session, so the holder cannot write again", async () => {
      const holder = spawnTs('../pg/hold-lock.ts', [url, 'demo']);
      try {
        const line = await holder.waitForLine((l) => l.startsWith('locked '));
        const held = JSON.parse(line.slice('locked '.length)) as LockInfo;
        await backend.forceUnlock('demo', held.id);
        expect(await backend.lockHolder('demo')).toBeNull();
        const s = await backend.lock('demo', NOW);
        const lost = await holder.waitForLine((l) => l.startsWith('lost '));
        expect(lost).toMatch(/lost the connection holding the lock of environment "demo"/);
        expect((await holder.exited).code).toBe(3);
        await s.release();
      } finally {
        await killHard(holder);
      }
    });
  });
});

describe('PostgreSQL connection problems', () => {
  it('says which server it cannot reach, without the password', async () => {
    const nowhere = `${cluster.dir}/no-server-here`;
    const b = await openPostgresStateBackend(
      `postgres://bp:s3cret-pw@/bp?host=${encodeURIComponent(nowhere)}&port=5999`,
    );
    expect(b.description).not.toContain('s3cret-pw');
    const err = await b.list().catch((e: unknown) => e);
    expect(BpError.is(err) && err.code).toBe('Provider');
    expect(BpError.is(err) && err.retryable).toBe(true);
    expect((err as Error).message).toContain(
      `cannot reach the PostgreSQL state backend at socket ${nowhere}/.s.PGSQL.5999`,
    );
    expect((err as Error).message).not.toContain('s3cret-pw');
    await b.close();
  });

  it('names host and port over TCP', async () => {
    const b = await openPostgresStateBackend(
      'postgres://bp:s3cret-pw@127.0.0.1:1/bp?sslmode=disable&connect_timeout=5',
    );
    const err = await b.lock('demo', NOW).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /cannot reach the PostgreSQL state backend at 127\.0\.0\.1:1, database "bp": connection refused/,
    );
    expect((err as Error).message).not.toContain('s3cret-pw');
    await b.close();
  });

  it('says when the database does not exist', async () => {
    const b = await openPostgresStateBackend(cluster.url('no_such_db'));
    await expect(b.list()).rejects.toThrow(/database "no_such_db".*does not exist/);
    await b.close();
  });

  it('refuses unknown URL parameters and bad sslmodes instead of ignoring them', async () => {
    await expect(openPostgresStateBackend(cluster.url('x', 'sslmod=require'))).rejects.toThrow(
      /unsupported parameter "sslmod"/,
    );
    await expect(openPostgresStateBackend(cluster.url('x', 'sslmode=sometimes'))).rejects.toThrow(
      /invalid sslmode "sometimes"/,
    );
  });

  it('says when TLS is required but the server does not offer it', async () => {
    const b = await openPostgresStateBackend(cluster.url('postgres', 'sslmode=require'));
    await expect(b.list()).rejects.toThrow(/does not accept TLS, but sslmode=require requires it/);
    await b.close();
  });
});
