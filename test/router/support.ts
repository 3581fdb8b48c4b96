/** Helpers for router tests: real backends on real sockets, and the real router process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routerInvocation } from '../../src/deployers/local-host/node-script.js';
import { RouterAdminClient } from '../../src/router/client.js';
import { ROUTER_TOKEN_ENV, type RouterConfig, type RouterReady } from '../../src/router/config.js';
import { freePort } from '../helpers/ports.js';
export { freePort };

export interface TestBackend {
  url: string;
  server: http.Server;
  connections: number;
  close(): Promise<void>;
}

export async function startBackend(handler: http.RequestListener): Promise<TestBackend> {
  const server = http.createServer(handler);
  // Upgraded sockets leave the HTTP server's bookkeeping, so close() must end them itself.
  const sockets = new Set<net.Socket>();
  const b: TestBackend = {
    url: '',
    server,
    connections: 0,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  server.on('connection', (s: net.Socket) => {
    b.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  b.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return b;
}

export interface RunningRouter {
  port: number;
  url: string;
  /** `http://HOST:PORT/metrics` of the router's metrics listener. */
  metricsUrl: string;
  ready: RouterReady;
  admin: RouterAdminClient;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export async function startRouter(
  config: RouterConfig,
  healthIntervalMs = 200,
  opts: { metricsListen?: string; args?: string[] } = {},
): Promise<RunningRouter> {
  const dir = mkdtempSync(join(tmpdir(), 'bp-router-'));
  const port = await freePort();
  const configFile = join(dir, 'config.json');
  const readyFile = join(dir, 'ready.json');
  const logFile = join(dir, 'router.log');
  writeFileSync(configFile, JSON.stringify(config));
  const token = 'test-token-0123456789';
  const inv = routerInvocation();
  const child = spawn(
    inv.command,
    [
      ...inv.args,
      '--listen',
      `127.0.0.1:${port}`,
      '--config',
      configFile,
      '--ready-file',
      readyFile,
      '--health-interval-ms',
      String(healthIntervalMs),
      ...(opts.metricsListen ? ['--metrics-listen', opts.metricsListen] : []),
      ...(opts.args ?? []),
    ],
    {
      env: { ...process.env, [ROUTER_TOKEN_ENV]: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const closed = new Promise((r) => child.once('close', r));
  const deadline = Date.now() + 60_000;
  while (!existsSync(readyFile)) {
    // On exit, wait for its output to be read too: the error names the router's own reason.
    if (child.exitCode !== null) await closed;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`router did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ready = JSON.parse(readFileSync(readyFile, 'utf8')) as RouterReady;
  void logFile;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://${ready.metrics_listen}/metrics`,
    ready,
    admin: new RouterAdminClient(ready.admin_port, token),
    child,
    log: () => output,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r(); // already stopped
        child.once('exit', () => r());
        child.kill('SIGKILL');
      }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(url: string, opts: http.RequestOptions = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...opts }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Fires `n` GETs with `concurrency` at a time over keep-alive; returns the bodies. */
export async function many(url: string, n: number, concurrency = 16): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const bodies: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const r = await request(url, { agent });
      bodies.push(`${r.status} ${r.body.trim()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return bodies;
}

export function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Allowed deviation from n*p: `sigmas` standard deviations of Binomial(n, p). */
export function binomialTolerance(n: number, p: number, sigmas = 5): number {
  return sigmas * Math.sqrt(n * p * (1 - p));
}

/** Polls `probe` until it returns true, failing with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
