/**
 * One router process per deployment on this machine (local-process and docker): started on
 * demand, found again after bp restarts by its recorded pid + start time, reconfigured in
 * place through its admin endpoint. How entries change is the kit's (../kit/router-fleet.ts).
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeployerRevision, Logger, VerbOptions } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';
import { fetchMetrics, metricsUrl, RouterAdminClient } from '../../router/client.js';
import { type RouterConfig, type RouterEntry, type RouterStatus } from '../../router/config.js';
import { leastEnvironment } from '../least-env.js';
import { formatListen, parseListen } from '../../router/listen.js';
import { done, pending, pollUntil } from '../kit/poll.js';
import { refreshEntry, routedSplit, type RouterSite, splitConfig, waitForInFlight } from '../kit/router-fleet.js';
import { logTail } from './files.js';
import { routerInvocation } from './node-script.js';
import { isAlive, spawnDetached, stopProcess } from './proc.js';
import type { RouterRecord, RouterStore } from './router-store.js';

const ROUTER_START_TIMEOUT_MS = 20_000;
const ROUTER_START_POLL_MS = 50;

export interface RouterDeps {
  store: RouterStore;
  logger: Logger;
  killGraceMs: number;
  healthIntervalMs: number;
}

export function normalizeListen(deploymentId: string, listen: string | null): string {
  const parsed = listen ? parseListen(listen) : null;
  if (!parsed) {
    throw new ProviderError(
      `deployment "${deploymentId}" needs a listen address (HOST:PORT) for the local-process router, got ${JSON.stringify(listen)}`,
    );
  }
  return formatListen(parsed);
}

/** A deployment's metrics_listen in canonical form; null asks the router for a free loopback port. */
export function normalizeMetricsListen(deploymentId: string, metricsListen: string | null | undefined): string | null {
  if (metricsListen === null || metricsListen === undefined) return null;
  const parsed = parseListen(metricsListen);
  if (!parsed) {
    throw new ProviderError(
      `deployment "${deploymentId}" has an invalid metrics_listen ${JSON.stringify(metricsListen)}; expected HOST:PORT`,
    );
  }
  return formatListen(parsed);
}

export class Routers {
  constructor(private readonly deps: RouterDeps) {}

  /** The record of a router that is running now, or null. */
  running(deploymentId: string): RouterRecord | null {
    const rec = this.deps.store.readRouter(deploymentId);
    return rec && rec.admin_port > 0 && isAlive(rec) ? rec : null;
  }

  hasRecord(deploymentId: string): boolean {
    return this.deps.store.readRouter(deploymentId) !== null;
  }

  /** What the running router enforces, or null when no router runs for the deployment. */
  async status(deploymentId: string): Promise<RouterStatus | null> {
    const rec = this.running(deploymentId);
    if (!rec) return null;
    try {
      return await new RouterAdminClient(rec.admin_port, rec.token).status();
    } catch (e) {
      if (!isAlive(rec)) return null;
      throw new ProviderError(
        `router of deployment "${deploymentId}" (pid ${rec.pid}) is not answering: ${(e as Error).message}`,
        {
          cause: e,
          retryable: true,
        },
      );
    }
  }

  /** Hot-reloads a running router; false when none runs. */
  async reconfigure(deploymentId: string, config: RouterConfig): Promise<boolean> {
    const rec = this.running(deploymentId);
    if (!rec) return false;
    try {
      await new RouterAdminClient(rec.admin_port, rec.token).putConfig(config);
      return true;
    } catch (e) {
      throw new ProviderError(
        `cannot reconfigure the router of deployment "${deploymentId}": ${(e as Error).message}`,
        {
          cause: e,
          retryable: true,
        },
      );
    }
  }

  /**
   * Enforces `config` on `listen` with metrics on `metricsListen`: reconfigures the running
   * router, or (re)starts one when an address changed (a router binds its sockets once).
   */
  async ensure(
    deploymentId: string,
    listen: string,
    metricsListen: string | null,
    config: RouterConfig,
  ): Promise<void> {
    const rec = this.deps.store.readRouter(deploymentId);
    // A router started before metrics existed has no metrics listener: restart it with one.
    const sameMetrics = rec?.metrics_listen !== undefined && (rec.metrics_listen_requested ?? null) === metricsListen;
    if (rec && rec.listen === listen && sameMetrics && (await this.reconfigure(deploymentId, config))) return;
    if (rec) await stopProcess(rec, this.deps.killGraceMs);
    await this.start(deploymentId, listen, metricsListen, config);
  }

  /** The running router's metrics text, read now. */
  async scrape(deploymentId: string, signal: AbortSignal): Promise<string> {
    const rec = this.running(deploymentId);
    if (!rec) {
      throw new ProviderError(
        `deployment "${deploymentId}" has no running router, so it has no metrics to read; apply its traffic split first`,
        {
          retryable: false,
        },
      );
    }
    if (!rec.metrics_listen) {
      throw new ProviderError(
        `the router of deployment "${deploymentId}" (pid ${rec.pid}) was started by a bp without router metrics; ` +
          'it gets a metrics listener when its traffic split is next applied',
        { retryable: false },
      );
    }
    const url = rec.metrics_url ?? metricsUrl(rec.metrics_listen);
    try {
      return await fetchMetrics(url, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      throw new ProviderError(
        `the router of deployment "${deploymentId}" did not serve its metrics: ${(e as Error).message}`,
        {
          cause: e,
          retryable: isAlive(rec),
        },
      );
    }
  }

  async stop(deploymentId: string): Promise<void> {
    const rec = this.deps.store.readRouter(deploymentId);
    if (rec) await stopProcess(rec, this.deps.killGraceMs);
    this.deps.store.removeRouter(deploymentId);
  }

  /** The deployment's router as the kit's router helpers reach it. */
  site(deploymentId: string): RouterSite {
    return {
      status: () => this.status(deploymentId),
      reconfigure: (config) => this.reconfigure(deploymentId, config),
    };
  }

  /** Enforces a split on `listen`; revisions still draining and not gaining traffic stay draining. */
  async enforce(
    deploymentId: string,
    listen: string | null,
    metricsListen: string | null | undefined,
    entries: RouterEntry[],
  ): Promise<void> {
    const address = normalizeListen(deploymentId, listen);
    const metricsAddress = normalizeMetricsListen(deploymentId, metricsListen);
    const current = await this.status(deploymentId);
    await this.ensure(
      deploymentId,
      address,
      metricsAddress,
      splitConfig(deploymentId, entries, current?.config ?? null),
    );
  }

  /** The weights the router reports; [] when its router died; null when it never had one. */
  async observed(deploymentId: string): Promise<SplitEntry[] | null> {
    const status = await this.status(deploymentId);
    if (status) return routedSplit(status);
    return this.hasRecord(deploymentId) ? [] : null;
  }

  /** Updates one revision in a running router (backends: null keeps them); false when none routes it. */
  refresh(deploymentId: string, revisionId: string, backends: string[] | null, draining: boolean): Promise<boolean> {
    return refreshEntry(this.site(deploymentId), revisionId, backends, draining);
  }

  /** Waits until the router reports no request in flight to the revision, up to drain_seconds. */
  waitForInFlight(deploymentId: string, revision: DeployerRevision, opts: VerbOptions): Promise<void> {
    return waitForInFlight(this.site(deploymentId), revision, opts.signal, { progress: opts.progress });
  }

  private async start(
    deploymentId: string,
    listen: string,
    metricsListen: string | null,
    config: RouterConfig,
  ): Promise<void> {
    const { store } = this.deps;
    const token = randomBytes(32).toString('hex');
    const configFile = store.writeRouterConfig(deploymentId, config);
    const readyFile = store.routerFile(deploymentId, 'ready.json');
    const logFile = store.routerFile(deploymentId, 'router.log');
    rmSync(readyFile, { force: true });
    const inv = routerInvocation();
    // The admin token goes through a 0600 file the router deletes once read: never argv or env.
    const tokenFile = join(store.routerDir(deploymentId), 'admin.token');
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const id = spawnDetached({
      command: inv.command,
      args: [
        ...inv.args,
        '--listen',
        listen,
        '--config',
        configFile,
        '--ready-file',
        readyFile,
        '--token-file',
        tokenFile,
        '--health-interval-ms',
        String(this.deps.healthIntervalMs),
        ...(metricsListen ? ['--metrics-listen', metricsListen] : []),
      ],
      cwd: store.routerDir(deploymentId),
      env: leastEnvironment(),
      logFile,
    });
    const record: RouterRecord = {
      ...id,
      deployment_id: deploymentId,
      listen,
      admin_port: 0,
      token,
      metrics_listen_requested: metricsListen,
    };
    store.writeRouter(record);

    const failed = async (why: string) => {
      await stopProcess(id, 0);
      return new ProviderError(
        `router of deployment "${deploymentId}" on ${listen} ${why}; last lines of ${logFile}:\n${logTail(logFile, 5)}`,
        { retryable: true },
      );
    };
    const ready = await pollUntil(
      async () => {
        const r = store.readReady(deploymentId);
        if (r && r.pid === id.pid) return done(r);
        if (!isAlive(id)) throw await failed('exited');
        return pending();
      },
      {
        what: `the router of "${deploymentId}" to listen`,
        timeoutMs: ROUTER_START_TIMEOUT_MS,
        intervalMs: ROUTER_START_POLL_MS,
        onTimeout: () => failed(`did not come up within ${ROUTER_START_TIMEOUT_MS / 1000}s`),
      },
    );
    const metrics = ready.metrics_listen
      ? { metrics_listen: ready.metrics_listen, metrics_url: metricsUrl(ready.metrics_listen) }
      : {};
    store.writeRouter({ ...record, admin_port: ready.admin_port, ...metrics });
    this.deps.logger.info('router started', { deployment_id: deploymentId, listen, pid: id.pid, ...metrics });
  }
}
