/**
 * The router process: one per deployment, started detached by the local-process deployer
 * so traffic keeps flowing when bp exits.
 *
 *   node main.js --listen HOST:PORT --config FILE --ready-file FILE [--health-interval-ms N]
 *                [--metrics-listen HOST:PORT] [limit flags: see limits.ts]
 *
 * Without --metrics-listen, the metrics listener takes a free loopback port; the ready
 * file and GET /status report where it is.
 * The admin token comes in a 0600 file named by --token-file, which the router reads and
 * deletes at once: argv is world-readable in /proc, and the environment stays readable in
 * /proc/PID/environ for the life of the process (deleting it from process.env does not
 * change that). The BP_ROUTER_TOKEN environment variable is still read when no file is given
 * (a router started by hand); bp's deployers never use it.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createAdminServer } from './admin.js';
import { BackendPool } from './backends.js';
import { ROUTER_TOKEN_ENV, routerConfigProblems, type RouterConfig, type RouterReady } from './config.js';
import { LIMIT_OPTIONS, parseLimits } from './limits.js';
import { formatListen, type ListenAddress, parseListen } from './listen.js';
import { createMetricsServer } from './metrics-server.js';
import { createProxyServer } from './proxy.js';

const SHUTDOWN_GRACE_MS = 10_000;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} router[${process.pid}] ${message}\n`);
}

function fail(message: string): never {
  log(`fatal: ${message}`);
  process.exit(1);
}

/** The admin token from its 0600 file, deleted at once so it exists only in this process's memory. */
function readTokenFile(path: string): string {
  try {
    const token = readFileSync(path, 'utf8').trim();
    rmSync(path, { force: true });
    return token;
  } catch (e) {
    fail(`cannot read --token-file ${path}: ${(e as Error).message}`);
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      config: { type: 'string' },
      'ready-file': { type: 'string' },
      'health-interval-ms': { type: 'string', default: '1000' },
      'metrics-listen': { type: 'string' },
      'token-file': { type: 'string' },
      ...LIMIT_OPTIONS,
    },
  });
  const limits = parseLimits(values);
  if (typeof limits === 'string') fail(limits);
  const listen = parseListen(values.listen ?? '');
  if (!listen) fail(`--listen must be HOST:PORT, got "${values.listen ?? ''}"`);
  const metricsAsked = values['metrics-listen'] === undefined ? null : parseListen(values['metrics-listen']);
  if (values['metrics-listen'] !== undefined && !metricsAsked)
    fail(`--metrics-listen must be HOST:PORT, got "${values['metrics-listen']}"`);
  const metricsAt: ListenAddress = metricsAsked ?? { host: '127.0.0.1', port: 0 };
  const token =
    values['token-file'] === undefined ? process.env[ROUTER_TOKEN_ENV] : readTokenFile(values['token-file']);
  if (!token) fail(`neither --token-file nor ${ROUTER_TOKEN_ENV} gives an admin token`);
  delete process.env[ROUTER_TOKEN_ENV];
  if (!values.config || !values['ready-file']) fail('--config and --ready-file are required');
  const readyFile = values['ready-file'];

  let config: RouterConfig;
  try {
    config = JSON.parse(readFileSync(values.config, 'utf8')) as RouterConfig;
  } catch (e) {
    fail(`cannot read config ${values.config}: ${(e as Error).message}`);
  }
  const problems = routerConfigProblems(config);
  if (problems.length > 0) fail(`invalid config: ${problems.join('; ')}`);

  const interval = Math.max(100, Number(values['health-interval-ms']) || 1000);
  const pool = new BackendPool(config, interval);
  const listenText = formatListen(listen);
  const proxy = createProxyServer(pool, { deploymentId: config.deployment_id, log, limits });
  const metrics = createMetricsServer(pool);
  let admin: http.Server | null = null;

  proxy.on('error', (e: NodeJS.ErrnoException) =>
    fail(
      e.code === 'EADDRINUSE'
        ? `listen address ${listenText} is already in use`
        : `cannot listen on ${listenText}: ${e.message}`,
    ),
  );
  metrics.on('error', (e: NodeJS.ErrnoException) =>
    fail(
      e.code === 'EADDRINUSE'
        ? `metrics listen address ${formatListen(metricsAt)} is already in use`
        : `cannot listen for metrics on ${formatListen(metricsAt)}: ${e.message}`,
    ),
  );

  proxy.listen(listen.port, listen.host, () => {
    metrics.listen(metricsAt.port, metricsAt.host, () => {
      const metricsText = formatListen({ host: metricsAt.host, port: (metrics.address() as AddressInfo).port });
      const control = createAdminServer(pool, { token, listen: listenText, metricsListen: metricsText, log });
      admin = control;
      control.on('error', (e) => fail(`admin endpoint: ${e.message}`));
      control.listen(0, '127.0.0.1', () => {
        const ready: RouterReady = {
          pid: process.pid,
          admin_port: (control.address() as AddressInfo).port,
          listen: listenText,
          metrics_listen: metricsText,
        };
        writeFileSync(`${readyFile}.tmp`, JSON.stringify(ready), { mode: 0o600 });
        renameSync(`${readyFile}.tmp`, readyFile);
        log(
          `listening on ${listenText} for deployment "${config.deployment_id}"; metrics on http://${metricsText}/metrics`,
        );
      });
    });
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: no new connections; waiting for ${pool.totalInFlight()} in-flight request(s)`);
    admin?.close();
    metrics.close();
    metrics.closeAllConnections();
    proxy.close();
    proxy.closeIdleConnections();
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    const poll = setInterval(() => {
      proxy.closeIdleConnections();
      if (pool.totalInFlight() === 0 || Date.now() > deadline) {
        clearInterval(poll);
        pool.close();
        log('stopped');
        process.exit(0);
      }
    }, 50);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // One misbehaving connection must not take every other one down with the process.
  process.on('uncaughtException', (e) => log(`uncaught: ${e.stack ?? e.message}`));
}

main();
