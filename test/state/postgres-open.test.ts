import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BpError } from '../../src/model/errors.js';
import { openStateBackend } from '../../src/state/index.js';
import { PostgresStateBackend, parsePostgresUrl, redactUrl } from '../../src/state/postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = fileURLToPath(new URL('./pg/probe-open.ts', import.meta.url));
const HIDE_PG = fileURLToPath(new URL('./pg/hide-pg.mjs', import.meta.url));

function probe(
  url: string,
  hidePg: boolean,
): { before: boolean; after: boolean; description?: string; code?: string; message?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bp-pg-open-'));
  try {
    const args = ['--import', 'tsx', ...(hidePg ? ['--import', HIDE_PG] : []), PROBE, dir, url];
    return JSON.parse(execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('opening the PostgreSQL backend', () => {
  it('serves postgres:// and postgresql:// URLs, naming the server without its password', async () => {
    for (const url of [
      'postgres://bp:s3cret@db.example:5433/bp',
      'postgresql://bp:s3cret@db.example/bp',
      'POSTGRES://db.example/bp',
    ]) {
      const b = await openStateBackend({ backend: url });
      expect(b).toBeInstanceOf(PostgresStateBackend);
      expect(b.description).toMatch(/^PostgreSQL state in (postgres|postgresql|POSTGRES):\/\//);
      expect(b.description).not.toContain('s3cret');
      await b.close(); // never connected: nothing to close, and no error
    }
  });

  it('loads pg only once a PostgreSQL URL is used', () => {
    const r = probe('postgres://u@/db?host=/nonexistent', false);
    expect(r).toMatchObject({ before: false, after: true });
    expect(r.description).toContain('postgres://u@/db');
  }, 60_000);

  it('says exactly what to install when pg is missing', () => {
    const r = probe('postgres://u@/db', true);
    expect(r.code).toBe('PluginLoad');
    expect(r.message).toMatch(/needs the "pg" package.*npm install pg/);
  }, 60_000);
});

describe('PostgreSQL URLs', () => {
  it('reads libpq parameters from the URL, then the PG* environment, then defaults', () => {
    const t = parsePostgresUrl('postgres://alice:pw@db.example:6543/prod?sslmode=require&connect_timeout=3', {});
    expect(t.client).toMatchObject({
      host: 'db.example',
      port: 6543,
      user: 'alice',
      password: 'pw',
      database: 'prod',
      connectionTimeoutMillis: 3000,
    });
    expect(t.sslMode).toBe('require');
    expect(t.tls).toMatchObject({ rejectUnauthorized: false, servername: 'db.example' });
    expect(t.where).toBe('db.example:6543, database "prod"');
    const e = parsePostgresUrl('postgres:///', {
      PGHOST: '/run/pg',
      PGPORT: '5444',
      PGUSER: 'bob',
      PGDATABASE: 'state',
      PGPASSWORD: 'x',
    });
    expect(e.client).toMatchObject({ host: '/run/pg', port: 5444, user: 'bob', database: 'state', password: 'x' });
    expect(e.sslMode).toBe('disable'); // never TLS over a unix socket, as libpq
    expect(e.where).toBe('socket /run/pg/.s.PGSQL.5444, database "state"');
  });

  it('keeps user@/db (empty host) and percent-encoded passwords working', () => {
    const t = parsePostgresUrl('postgres://u:p%40ss@/db?host=%2Ftmp%2Fsock', {});
    expect(t.client).toMatchObject({ host: '/tmp/sock', user: 'u', password: 'p@ss', database: 'db' });
  });

  it('never shows a password', () => {
    expect(redactUrl('postgres://u:p@ss@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://h/db?user=u&password=hunter2&sslmode=require')).toBe(
      'postgres://h/db?user=u&password=***&sslmode=require',
    );
    const err = (() => {
      try {
        parsePostgresUrl('postgres://u:hunter2@h:notaport/db', {});
      } catch (e) {
        return e;
      }
    })();
    expect(BpError.is(err) && err.code).toBe('Usage');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('requires a root certificate for verify-ca', () => {
    expect(() => parsePostgresUrl('postgres://h/db?sslmode=verify-ca', {})).toThrow(/verify-ca needs sslrootcert/);
  });
});
