/**
 * Turns a `postgres://` URL (plus the libpq environment variables) into `pg` client options,
 * with libpq's meaning for every parameter we accept, so a URL that works with psql works
 * here. Unknown parameters are refused rather than ignored: a typo such as `sslmod=require`
 * must not silently downgrade a connection to plaintext.
 *
 * Nothing here ever puts the password in a message: `where` and `redacted` are what errors
 * and `bp state list` print.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { ClientConfig } from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { UsageError } from '../../model/errors.js';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

const PARAMETERS = [
  'host',
  'port',
  'user',
  'password',
  'dbname',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'connect_timeout',
  'application_name',
] as const;
type Parameter = (typeof PARAMETERS)[number];

/** libpq's environment variable for each parameter. */
const ENVIRONMENT: Record<Parameter, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  dbname: 'PGDATABASE',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
};

const DEFAULT_CONNECT_TIMEOUT_S = 10;

export interface PostgresTarget {
  /** `pg` options without `ssl`; see `sslOptions`. */
  client: ClientConfig;
  sslMode: SslMode;
  /** TLS options for modes that use TLS (null for disable). */
  tls: ConnectionOptions | null;
  /** `127.0.0.1:5432, database "bp"`: for messages, never with the password. */
  where: string;
  /** The URL with any password replaced by `***`. */
  redacted: string;
}

/** Parses `url`; `env` is the process environment (a parameter for tests). */
export function parsePostgresUrl(url: string, env: NodeJS.ProcessEnv = process.env): PostgresTarget {
  const redacted = redactUrl(url);
  const u = parseUrl(url, redacted);
  const query = new Map<string, string>();
  for (const [k, v] of u.url.searchParams) {
    if (!(PARAMETERS as readonly string[]).includes(k)) {
      throw new UsageError(
        `unsupported parameter "${k}" in the PostgreSQL URL ${redacted}; supported: ${PARAMETERS.join(', ')}`,
      );
    }
    query.set(k, v);
  }
  const pick = (p: Parameter, fromUrl: string): string | undefined => {
    const v = query.get(p) ?? (fromUrl !== '' ? fromUrl : undefined) ?? env[ENVIRONMENT[p]];
    return v === '' ? undefined : v;
  };

  const host = pick('host', u.host) ?? 'localhost';
  const isSocket = host.startsWith('/');
  const portText = pick('port', u.url.port) ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`invalid port "${portText}" in the PostgreSQL URL ${redacted}`);
  const user = pick('user', decodeURIComponent(u.url.username)) ?? userInfo().username;
  const password = pick('password', decodeURIComponent(u.url.password));
  const database = pick('dbname', decodeURIComponent(u.url.pathname.replace(/^\//, ''))) ?? user;
  const timeoutText = pick('connect_timeout', '') ?? String(DEFAULT_CONNECT_TIMEOUT_S);
  const timeoutS = Number(timeoutText);
  if (!Number.isFinite(timeoutS) || timeoutS < 0)
    throw new UsageError(`invalid connect_timeout "${timeoutText}" in the PostgreSQL URL ${redacted}`);

  // libpq's default is prefer; it never uses TLS over a unix socket.
  const modeText = pick('sslmode', '') ?? (isSocket ? 'disable' : 'prefer');
  if (!(SSL_MODES as readonly string[]).includes(modeText)) {
    throw new UsageError(
      `invalid sslmode "${modeText}" in the PostgreSQL URL ${redacted}; use one of ${SSL_MODES.join(', ')}`,
    );
  }
  const sslMode = modeText as SslMode;
  const where = `${isSocket ? `socket ${host}/.s.PGSQL.${port}` : `${host.includes(':') ? `[${host}]` : host}:${port}`}, database "${database}"`;
  return {
    client: {
      host,
      port,
      user,
      password,
      database,
      // 0 means "wait forever" to libpq, and to pg.
      connectionTimeoutMillis: timeoutS * 1000,
      application_name: pick('application_name', '') ?? 'bp',
      keepAlive: true,
    },
    sslMode,
    tls: sslMode === 'disable' ? null : tlsOptions(sslMode, host, isSocket, (p) => pick(p, ''), redacted),
    where,
    redacted,
  };
}

/** libpq semantics: require without a root certificate encrypts without verifying; with one it verifies the CA. */
function tlsOptions(
  mode: SslMode,
  host: string,
  isSocket: boolean,
  pick: (p: Parameter) => string | undefined,
  redacted: string,
): ConnectionOptions {
  const read = (p: Parameter): string | undefined => {
    const file = pick(p);
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(
        `cannot read ${p} file ${file} named for the PostgreSQL URL ${redacted}: ${(e as Error).message}`,
      );
    }
  };
  const ca = read('sslrootcert');
  const opts: ConnectionOptions = { ca, cert: read('sslcert'), key: read('sslkey') };
  if (!isSocket && !/^[0-9.:]+$/.test(host)) opts.servername = host;
  const verifyCa = mode === 'verify-ca' || (mode === 'require' && ca !== undefined);
  if (mode === 'verify-full') return { ...opts, rejectUnauthorized: true };
  if (verifyCa) {
    if (ca === undefined)
      throw new UsageError(`sslmode=verify-ca needs sslrootcert (or PGSSLROOTCERT) in the PostgreSQL URL ${redacted}`);
    return { ...opts, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  }
  return { ...opts, rejectUnauthorized: false };
}

function parseUrl(url: string, redacted: string): { url: URL; host: string } {
  try {
    const u = new URL(url);
    return { url: u, host: decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1') };
  } catch {
    // WHATWG URLs reject `postgres://user@/db` (credentials, no host), which libpq accepts.
    try {
      return { url: new URL(url.replace(/@\//, '@bp-no-host/')), host: '' };
    } catch {
      // Never echo the URL itself: it may hold a password.
      throw new UsageError(
        `invalid PostgreSQL URL ${redacted}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]`,
      );
    }
  }
}

/** Replaces the password in a URL (userinfo or `password=` parameter) with `***`. */
export function redactUrl(url: string): string {
  // Greedy up to the last '@' of the authority: a password may itself contain '@'.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/]*@/i, '$1:***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}
