/**
 * One router process per deployment: started on demand, found again after bp restarts by
 * its recorded pid + start time, reconfigured in place through its admin endpoint.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Logger } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { RouterAdminClient } from '../../router/client.js';
import { ROUTER_TOKEN_ENV, type RouterConfig, type RouterStatus } from '../../router/config.js';
import { formatListen, parseListen } from '../../router/listen.js';
import { routerInvocation } from './node-script.js';
import { isAlive, sleep, spawnDetached, stopProcess } from './proc.js';
import { type LocalStore, logTail, type RouterRecord } from './store.js';

const ROUTER_START_TIMEOUT_MS = 20_000;

export interface RouterDeps {
  store: LocalStore;
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
      throw new ProviderError(`router of deployment "${deploymentId}" (pid ${rec.pid}) is not answering: ${(e as Error).message}`, {
        cause: e, retryable: true,
      });
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
      throw new ProviderError(`cannot reconfigure the router of deployment "${deploymentId}": ${(e as Error).message}`, {
        cause: e, retryable: true,
      });
    }
  }

  /** Enforces `config` on `listen`: reconfigures the running router, or (re)starts one. */
  async ensure(deploymentId: string, listen: string, config: RouterConfig): Promise<void> {
    const rec = this.deps.store.readRouter(deploymentId);
    if (rec && rec.listen === listen && (await this.reconfigure(deploymentId, config))) return;
    if (rec) await stopProcess(rec, this.deps.killGraceMs);
    await this.start(deploymentId, listen, config);
  }

  async stop(deploymentId: string): Promise<void> {
    const rec = this.deps.store.readRouter(deploymentId);
    if (rec) await stopProcess(rec, this.deps.killGraceMs);
    this.deps.store.removeRouter(deploymentId);
  }

  private async start(deploymentId: string, listen: string, config: RouterConfig): Promise<void> {
    const { store } = this.deps;
    const token = randomBytes(32).toString('hex');
    const configFile = store.writeRouterConfig(deploymentId, config);
    const readyFile = store.routerFile(deploymentId, 'ready.json');
    const logFile = store.routerFile(deploymentId, 'router.log');
    rmSync(readyFile, { force: true });
    const inv = routerInvocation();
    const id = spawnDetached({
      command: inv.command,
      args: [...inv.args, '--listen', listen, '--config', configFile, '--ready-file', readyFile,
        '--health-interval-ms', String(this.deps.healthIntervalMs)],
      cwd: store.routerDir(deploymentId),
      env: { ...process.env, [ROUTER_TOKEN_ENV]: token },
      logFile,
    });
    const record: RouterRecord = { ...id, deployment_id: deploymentId, listen, admin_port: 0, token };
    store.writeRouter(record);

    const deadline = Date.now() + ROUTER_START_TIMEOUT_MS;
    for (;;) {
      const ready = store.readReady(deploymentId);
      if (ready && ready.pid === id.pid) {
        store.writeRouter({ ...record, admin_port: ready.admin_port });
        this.deps.logger.info('router started', { deployment_id: deploymentId, listen, pid: id.pid });
        return;
      }
      if (!isAlive(id) || Date.now() >= deadline) {
        const why = isAlive(id) ? `did not come up within ${ROUTER_START_TIMEOUT_MS / 1000}s` : 'exited';
        await stopProcess(id, 0);
        throw new ProviderError(
          `router of deployment "${deploymentId}" on ${listen} ${why}; last lines of ${logFile}:\n${logTail(logFile, 5)}`,
          { retryable: true },
        );
      }
      await sleep(50);
    }
  }
}
