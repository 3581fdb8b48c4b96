/**
 * One router per deployment per host: the local-process router, shipped to the host and
 * started detached on the deployment's `listen` (host part replaced by `listen_host`).
 * bp reaches its admin endpoint through the SSH connection, never over the network.
 */
import { randomBytes } from 'node:crypto';
import { ProviderError } from '../../model/errors.js';
import { connectHost } from '../../router/client.js';
import { type RouterConfig, type RouterReady, type RouterStatus } from '../../router/config.js';
import { formatListen, parseListen } from '../../router/listen.js';
import type { RouterSite } from '../kit/router-fleet.js';
import type { Host, ProcessIdentity } from './host.js';
import { bundleDirName, routerBundle } from './router-bundle.js';
import { READ_ROUTERS, START_ROUTER } from './scripts.js';
import { tunnelRequest } from './tunnel-http.js';
import { ensureUploaded } from './upload.js';

const ADMIN_TIMEOUT_MS = 5000;

export interface RouterRecord extends ProcessIdentity {
  deployment_id: string;
  admin_port: number;
  listen: string;
  token: string;
  alive: boolean;
  /** HOST:PORT of the metrics listener on the host; null for a router started before metrics existed. */
  metrics_listen: string | null;
  /** The deployment's metrics_listen the router was started with (null: a free loopback port). */
  metrics_listen_requested: string | null;
}

/** The deployment's metrics_listen, bound as written on every host; null: each router picks a loopback port. */
export function hostMetricsListen(deploymentId: string, metricsListen: string | null | undefined): string | null {
  if (metricsListen === null || metricsListen === undefined) return null;
  const parsed = parseListen(metricsListen);
  if (!parsed)
    throw new ProviderError(
      `deployment "${deploymentId}" has an invalid metrics_listen ${JSON.stringify(metricsListen)}; expected HOST:PORT`,
    );
  return formatListen(parsed);
}

/** Where the metrics listener is reached from the host itself (through the SSH connection). */
export function metricsEndpoint(rec: RouterRecord): { host: string; port: number } | null {
  const m = rec.metrics_listen ? /^(?:\[(.*)\]|(.*)):([0-9]+)$/.exec(rec.metrics_listen) : null;
  return m ? { host: connectHost(m[1] ?? m[2]), port: Number(m[3]) } : null;
}

/** The address this host's router for a deployment binds. */
export function hostListen(host: Host, deploymentId: string, listen: string | null): string {
  const parsed = listen ? parseListen(listen) : null;
  if (!parsed) {
    throw new ProviderError(
      `deployment "${deploymentId}" needs a listen address (HOST:PORT) for the ssh deployer's routers, got ${JSON.stringify(listen)}`,
    );
  }
  return formatListen({ host: host.config.listen_host ?? parsed.host, port: parsed.port });
}

export async function readRouters(host: Host, envId: string): Promise<Map<string, RouterRecord>> {
  const out = await host.script(READ_ROUTERS, [await host.routerDir(envId)], 'reading router records');
  const lines = out.split('\n');
  const found = new Map<string, RouterRecord>();
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [dep, state, current] = lines[i].split(' ');
    const [pid, st, adminPort, listen, token, metricsListen, metricsRequested] = lines[i + 1].split(' ');
    if (!dep || !/^[0-9]+$/.test(pid ?? '') || !token) continue;
    found.set(dep, {
      deployment_id: dep,
      pid: Number(pid),
      start_time: st,
      admin_port: Number(adminPort),
      listen,
      token,
      alive: current === st && state !== 'Z' && state !== 'X' && state !== '-',
      metrics_listen: metricsListen || null,
      metrics_listen_requested: metricsRequested && metricsRequested !== '-' ? metricsRequested : null,
    });
  }
  return found;
}

async function admin(
  host: Host,
  rec: RouterRecord,
  method: string,
  path: string,
  body?: unknown,
): Promise<RouterStatus> {
  const conn = await host.connection();
  const res = await tunnelRequest(conn, '127.0.0.1', rec.admin_port, {
    method,
    path,
    timeoutMs: ADMIN_TIMEOUT_MS,
    headers: {
      authorization: `Bearer ${rec.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((e: Error) => {
    throw new ProviderError(`router of "${rec.deployment_id}" on ${host.label} is not answering: ${e.message}`, {
      cause: e,
      retryable: true,
    });
  });
  if (res.status !== 200) {
    throw new ProviderError(
      `router of "${rec.deployment_id}" on ${host.label} answered ${method} ${path} with ${res.status}: ${res.body.slice(0, 200)}`,
      {
        retryable: true,
      },
    );
  }
  return JSON.parse(res.body) as RouterStatus;
}

/** What the running router enforces, or null when none runs for the deployment. */
export async function routerStatus(host: Host, rec: RouterRecord | undefined): Promise<RouterStatus | null> {
  if (!rec || !rec.alive || rec.admin_port <= 0) return null;
  return admin(host, rec, 'GET', '/status');
}

export async function reconfigureRouter(host: Host, rec: RouterRecord, config: RouterConfig): Promise<void> {
  await admin(host, rec, 'PUT', '/config', config);
}

/** A deployment's router on one host, as the kit's router helpers reach it (the record is read anew each time). */
export function routerSite(host: Host, envId: string, deploymentId: string): RouterSite {
  let rec: RouterRecord | undefined;
  return {
    async status() {
      rec = (await readRouters(host, envId)).get(deploymentId);
      return routerStatus(host, rec);
    },
    async reconfigure(config) {
      rec ??= (await readRouters(host, envId)).get(deploymentId);
      if (!rec) throw new ProviderError(`no router of "${deploymentId}" runs on ${host.label}`, { retryable: true });
      await reconfigureRouter(host, rec, config);
    },
  };
}

/** Ships the router's files to the host once per router version; returns the entry point. */
async function shipRouter(host: Host, signal: AbortSignal): Promise<string> {
  const bundle = routerBundle();
  const dir = `${await host.root()}/_bp/${bundleDirName(bundle)}`;
  await ensureUploaded(host, () => bundle.tree, dir, `${dir}.sha256`, signal);
  return `${dir}/${bundle.main}`;
}

/**
 * Enforces `config` on `listen` (metrics on `metricsListen`) on this host: reconfigures the
 * running router, or (re)starts one when an address changed.
 */
export async function ensureRouter(
  host: Host,
  envId: string,
  listen: string,
  metricsListen: string | null,
  config: RouterConfig,
  signal: AbortSignal,
): Promise<void> {
  const deploymentId = config.deployment_id;
  const rec = (await readRouters(host, envId)).get(deploymentId);
  // A router started before metrics existed has no metrics listener: restart it with one.
  const sameMetrics = rec?.metrics_listen !== null && rec?.metrics_listen_requested === metricsListen;
  if (rec?.alive && rec.listen === listen && sameMetrics) {
    await reconfigureRouter(host, rec, config);
    return;
  }
  if (rec) await host.stopProcesses([rec]);
  const main = await shipRouter(host, signal);
  const dir = await host.routerDir(envId, deploymentId);
  const token = randomBytes(32).toString('hex');
  await host.writeFile(`${dir}/config.json`, JSON.stringify(config));
  const log = `${dir}/router.log`;
  const out = await host.script(
    START_ROUTER,
    [
      dir,
      log,
      `${dir}/ready.json`,
      `${dir}/admin.token`,
      host.settings.nodePath,
      main,
      '--listen',
      listen,
      '--config',
      `${dir}/config.json`,
      '--ready-file',
      `${dir}/ready.json`,
      '--token-file',
      `${dir}/admin.token`,
      '--health-interval-ms',
      String(host.settings.healthIntervalMs),
      ...(metricsListen ? ['--metrics-listen', metricsListen] : []),
    ],
    `starting the router of "${deploymentId}"`,
    { stdin: token, timeoutMs: 30_000 + host.settings.commandTimeoutMs },
  );
  const [head, ...rest] = out.split('\n');
  const [pid, st] = head.split(' ');
  let ready: RouterReady | null = null;
  try {
    ready = rest.join('\n').trim() ? (JSON.parse(rest.join('\n')) as RouterReady) : null;
  } catch {
    ready = null;
  }
  if (!ready || String(ready.pid) !== pid) {
    if (/^[0-9]+$/.test(pid) && /^[0-9]+$/.test(st) && st !== '0')
      await host.stopProcesses([{ pid: Number(pid), start_time: st }], 0);
    throw new ProviderError(
      `router of "${deploymentId}" on ${host.label} (${listen}) did not come up (is Node.js at "${host.settings.nodePath}"?); ` +
        `last lines of ${log}:\n${await host.tail(log, 5)}`,
      { retryable: true },
    );
  }
  await host.writeFile(
    `${dir}/router.rec`,
    `${pid} ${st} ${ready.admin_port} ${listen} ${token} ${ready.metrics_listen} ${metricsListen ?? '-'}\n`,
  );
}

export async function stopRouter(host: Host, envId: string, deploymentId: string, known?: RouterRecord): Promise<void> {
  const rec = known ?? (await readRouters(host, envId)).get(deploymentId);
  if (rec) await host.stopProcesses([rec]);
  await host.remove(await host.routerDir(envId, deploymentId));
}

const METRICS_TIMEOUT_MS = 5000;

/** The router's /metrics text, fetched on the host's side of the SSH connection. */
export async function scrapeRouter(host: Host, rec: RouterRecord): Promise<string> {
  const at = metricsEndpoint(rec);
  if (!at) {
    throw new ProviderError(
      `the router of "${rec.deployment_id}" on ${host.label} was started by a bp without router metrics; ` +
        'it gets a metrics listener when its traffic split is next applied',
      { retryable: false },
    );
  }
  const conn = await host.connection();
  const res = await tunnelRequest(conn, at.host, at.port, {
    method: 'GET',
    path: '/metrics',
    timeoutMs: METRICS_TIMEOUT_MS,
  }).catch((e: Error) => {
    throw new ProviderError(
      `the router of "${rec.deployment_id}" on ${host.label} did not serve its metrics: ${e.message}`,
      { cause: e, retryable: true },
    );
  });
  if (res.status !== 200) {
    throw new ProviderError(
      `the router of "${rec.deployment_id}" on ${host.label} answered GET /metrics with ${res.status}`,
      { retryable: true },
    );
  }
  return res.body;
}
