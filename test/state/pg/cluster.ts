/**
 * A throwaway PostgreSQL cluster for tests: initdb (trust auth) in a temp dir, a postmaster
 * listening on a unix socket in that dir (and, on request, on 127.0.0.1 with TLS), stopped
 * and deleted by `stop()`. As root (CI), the cluster runs as the `postgres` user.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../helpers/ports.js';

const PG_BIN = process.env.BP_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const SOCKET_PORT = 5432; // only names the socket file; the directory is ours alone

export interface ClusterOptions {
  /** Also listen on 127.0.0.1 (a free port), with TLS on from a fresh self-signed certificate. */
  tcpWithTls?: boolean;
}

export interface Cluster {
  dir: string;
  socketDir: string;
  /** Superuser name (trust auth: no password). */
  user: string;
  /** TCP port on 127.0.0.1, when started with tcpWithTls. */
  tcpPort: number | null;
  /** The CA (here: the server's self-signed certificate) to verify TLS with. */
  caFile: string | null;
  /** URL of `database` over the unix socket; `extra` is appended to the query. */
  url(database: string, extra?: string): string;
  /** URL of `database` over TCP to 127.0.0.1. */
  tcpUrl(database: string, extra?: string): string;
  /** Creates a fresh database and returns its socket URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs SQL as the superuser in `database`. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(
    database: string,
    text: string,
    values?: unknown[],
  ): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
        gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
      }
    : null;
  const user = asRoot ? 'postgres' : userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'bp-pg-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  mkdirSync(socketDir);
  if (owner) for (const d of [dir, socketDir]) chownSync(d, owner.uid, owner.gid);

  const initdb = [
    join(PG_BIN, 'initdb'),
    '-D',
    data,
    '--auth=trust',
    '-U',
    user,
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ];
  execFileSync(asRoot ? 'runuser' : initdb[0], asRoot ? ['-u', 'postgres', '--', ...initdb] : initdb.slice(1), {
    stdio: 'pipe',
  });

  // TCP and the socket share one port number in PostgreSQL; over the socket alone any number will do.
  const tcpPort = opts.tcpWithTls ? await freePort() : null;
  const port = tcpPort ?? SOCKET_PORT;
  const settings = ['-k', socketDir, '-p', String(port), '-c', 'max_connections=200', '-c', 'fsync=off'];
  let caFile: string | null = null;
  if (opts.tcpWithTls) {
    const cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'pipe' },
    );
    if (owner) for (const f of [cert, key]) chownSync(f, owner.uid, owner.gid);
    caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, readFileSync(cert));
    settings.push(
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${cert}`,
      '-c',
      `ssl_key_file=${key}`,
    );
  } else {
    settings.push('-c', 'listen_addresses=');
  }

  const child = spawn(join(PG_BIN, 'postgres'), ['-D', data, ...settings], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(owner ?? {}),
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-8000)));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const socketUrl = (database: string, extra = ''): string =>
    `postgres://${user}@/${database}?host=${encodeURIComponent(socketDir)}&port=${port}${extra ? `&${extra}` : ''}`;
  const tcpUrl = (database: string, extra = ''): string =>
    `postgres://${user}@127.0.0.1:${port}/${database}${extra ? `?${extra}` : ''}`;

  async function sql<T extends pg.QueryResultRow>(
    database: string,
    text: string,
    values: unknown[] = [],
  ): Promise<T[]> {
    const client = new pg.Client({ host: socketDir, port, user, database });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  let exited = false;
  child.on('exit', () => (exited = true));
  const started = Date.now();
  for (;;) {
    if (exited) throw new Error(`postgres exited during startup:\n${log}`);
    if (existsSync(join(socketDir, `.s.PGSQL.${port}`))) {
      try {
        await sql('postgres', 'SELECT 1');
        break;
      } catch {
        // still starting up
      }
    }
    if (Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`postgres did not start within 30s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  let counter = 0;
  return {
    dir,
    socketDir,
    user,
    tcpPort,
    caFile,
    url: socketUrl,
    tcpUrl,
    sql,
    async createDatabase(prefix = 'bp_test') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      await sql('postgres', `CREATE DATABASE ${name}`);
      return socketUrl(name);
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT'); // fast shutdown: disconnects clients, no waiting for them
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
