/**
 * The `pg` driver, loaded only when a PostgreSQL URL is used (so `bp --version` and local
 * state never pay for it), plus what turns its errors into one sentence an operator can act
 * on: which server, which database, what to check. Messages never carry the password.
 */
import type { Client, ClientConfig, QueryResult, QueryResultRow } from 'pg';
import { BpError, PluginLoadError, UsageError } from '../../model/errors.js';
import type { PostgresTarget } from './connection-config.js';

export type PgModule = typeof import('pg');

export async function loadPg(): Promise<PgModule> {
  try {
    const mod = (await import('pg')) as PgModule & { default?: PgModule };
    return mod.default ?? mod;
  } catch (e) {
    throw new PluginLoadError(
      'the PostgreSQL state backend needs the "pg" package, which is not installed: run `npm install pg` next to bp',
      { cause: e },
    );
  }
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOENT: 'no server socket there',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
};

/** SQLSTATEs after which trying again later may help (connection and concurrency classes). */
function retryableSqlState(code: string): boolean {
  return code.startsWith('08') || ['40001', '40P01', '53300', '57P01', '57P02', '57P03'].includes(code);
}

/** Why connecting to `target` failed, as a BpError. */
export function connectError(e: unknown, target: PostgresTarget): BpError {
  if (BpError.is(e)) return e;
  const err = e as Error & { code?: string };
  const code = err.code ?? '';
  const to = `the PostgreSQL state backend at ${target.where}`;
  if (code === '28P01' || code === '28000') {
    return new UsageError(
      `cannot log in to ${to} as user "${target.client.user}": ${err.message}; check the user and password (URL, PGPASSWORD or ~/.pgpass)`,
    );
  }
  if (code === '3D000') {
    return new UsageError(
      `${to} does not exist: ${err.message}; create it (createdb) or name another database in --backend`,
    );
  }
  if (/does not support SSL/i.test(err.message)) {
    return new UsageError(
      `${to} does not accept TLS, but sslmode=${target.sslMode} requires it; enable ssl on the server or use sslmode=prefer`,
    );
  }
  if (/certificate|self[- ]signed|altname|CERT_|SSL/i.test(`${code} ${err.message}`)) {
    return new UsageError(
      `TLS with ${to} failed: ${err.message}; check sslrootcert (or PGSSLROOTCERT) and sslmode=${target.sslMode}`,
    );
  }
  const network =
    NETWORK_CODES[code] ??
    (/timeout/i.test(err.message) ? `no answer within ${Number(target.client.connectionTimeoutMillis) / 1000}s` : null);
  if (network !== null) {
    return new BpError(
      'Provider',
      `cannot reach ${to}: ${network}; check --backend (BP_BACKEND) and that the server is running`,
      {
        cause: e,
        retryable: true,
      },
    );
  }
  return queryError(e, target);
}

/** A failed statement (after connecting), as a BpError naming the server. */
export function queryError(e: unknown, target: PostgresTarget): BpError {
  if (BpError.is(e)) return e;
  const err = e as Error & { code?: string };
  const code = err.code ?? '';
  if (NETWORK_CODES[code] !== undefined) return connectError(e, target);
  const state = /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : '';
  return new BpError('Provider', `the PostgreSQL state backend at ${target.where} failed: ${err.message}${state}`, {
    cause: e,
    retryable: code === '' || retryableSqlState(code),
  });
}

/**
 * Connects one client. With sslmode prefer or allow, a server that refuses TLS is asked
 * again in plaintext (libpq's behaviour); returns the config that worked, so a pool can
 * reuse it without asking twice.
 */
export async function connectClient(
  pg: PgModule,
  target: PostgresTarget,
  config?: ClientConfig,
): Promise<{ client: Client; config: ClientConfig }> {
  const first: ClientConfig = config ?? { ...target.client, ssl: target.tls ?? false };
  try {
    return { client: await connectOnce(pg, first), config: first };
  } catch (e) {
    const fallback = config === undefined && (target.sslMode === 'prefer' || target.sslMode === 'allow');
    if (!fallback || !/does not support SSL/i.test((e as Error).message)) throw connectError(e, target);
    const plain: ClientConfig = { ...target.client, ssl: false };
    try {
      return { client: await connectOnce(pg, plain), config: plain };
    } catch (e2) {
      throw connectError(e2, target);
    }
  }
}

async function connectOnce(pg: PgModule, config: ClientConfig): Promise<Client> {
  const client = new pg.Client(config);
  // Without a listener, a connection error after connect() settles would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

/** Runs a query, mapping failures to BpError. */
export async function run<R extends QueryResultRow>(
  client: Pick<Client, 'query'>,
  target: PostgresTarget,
  text: string,
  values: unknown[] = [],
): Promise<QueryResult<R>> {
  try {
    return await client.query<R>(text, values);
  } catch (e) {
    throw queryError(e, target);
  }
}

/** Runs `fn` inside a transaction on `client`, rolling back on any failure. */
export async function inTransaction<T>(client: Client, target: PostgresTarget, fn: () => Promise<T>): Promise<T> {
  await run(client, target, 'BEGIN');
  try {
    const out = await fn();
    await run(client, target, 'COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
