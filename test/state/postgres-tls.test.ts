/** TLS to a real server with a self-signed certificate, the way libpq's sslmode works. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStateBackend } from '../../src/state/postgres.js';
import { startCluster, type Cluster } from './pg/cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ tcpWithTls: true });
});
afterAll(async () => {
  await cluster?.stop();
});

/** Whether the connections bp holds open now use TLS, as the server sees them. */
async function bpConnectionsUseTls(): Promise<boolean[]> {
  const rows = await cluster.sql<{ ssl: boolean }>(
    'postgres',
    "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'bp'",
  );
  return rows.map((r) => r.ssl);
}

async function lockedOver(url: string): Promise<boolean[]> {
  const b = await openPostgresStateBackend(url);
  try {
    const s = await b.lock('demo', { operation: 'test', timeoutMs: 5000 });
    const tls = await bpConnectionsUseTls();
    await s.release();
    return tls;
  } finally {
    await b.close();
  }
}

describe('PostgreSQL state over TLS', () => {
  it('verifies the server against sslrootcert with sslmode=verify-full', async () => {
    const tls = await lockedOver(
      cluster.tcpUrl('postgres', `sslmode=verify-full&sslrootcert=${encodeURIComponent(cluster.caFile!)}`),
    );
    expect(tls.length).toBeGreaterThan(0);
    expect(tls.every(Boolean)).toBe(true);
  });

  it('takes the root certificate from PGSSLROOTCERT, like libpq', async () => {
    process.env.PGSSLROOTCERT = cluster.caFile!;
    try {
      expect((await lockedOver(cluster.tcpUrl('postgres', 'sslmode=verify-ca'))).every(Boolean)).toBe(true);
    } finally {
      delete process.env.PGSSLROOTCERT;
    }
  });

  it('uses TLS by default (sslmode=prefer) over TCP', async () => {
    expect((await lockedOver(cluster.tcpUrl('postgres'))).every(Boolean)).toBe(true);
  });

  it('refuses a server whose certificate the given CA did not sign, saying what to check', async () => {
    const otherCa = join(cluster.dir, 'other-ca.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=other',
        '-keyout',
        join(cluster.dir, 'other.key'),
        '-out',
        otherCa,
      ],
      { stdio: 'pipe' },
    );
    const b = await openPostgresStateBackend(
      cluster.tcpUrl('postgres', `sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa)}`),
    );
    const err = await b.list().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^TLS with the PostgreSQL state backend at 127\.0\.0\.1:\d+, database "postgres" failed: .*check sslrootcert/,
    );
    await b.close();
  });
});
