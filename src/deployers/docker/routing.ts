/**
 * Traffic for container revisions: the same weighted router process local-process runs
 * (one per deployment, on this host, on the deployment's `listen`), with the containers'
 * published ports as its backends. Router records live under the deployer's state dir.
 */
import type { DeployerRevision, Logger } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { AbortedError } from '../../model/errors.js';
import type { RouterConfig, RouterEntry } from '../../router/config.js';
import { sleep } from '../local-process/proc.js';
import { normalizeListen, normalizeMetricsListen, Routers } from '../local-process/routers.js';
import { LocalStore } from '../local-process/store.js';

const DRAIN_POLL_MS = 100;

export interface RoutingDeps {
  stateDir: string;
  logger: Logger;
  killGraceMs: number;
  healthIntervalMs: number;
}

export class Routing {
  private readonly routers: Routers;

  constructor(deps: RoutingDeps) {
    this.routers = new Routers({
      store: new LocalStore(deps.stateDir),
      logger: deps.logger,
      killGraceMs: deps.killGraceMs,
      healthIntervalMs: deps.healthIntervalMs,
    });
  }

  /** Enforces the split; revisions still draining and not gaining traffic stay draining. */
  async enforce(deploymentId: string, listen: string | null, metricsListen: string | null, entries: RouterEntry[]): Promise<void> {
    const address = normalizeListen(deploymentId, listen);
    const metricsAddress = normalizeMetricsListen(deploymentId, metricsListen);
    const current = await this.routers.status(deploymentId);
    const gaining = new Set(entries.filter((e) => e.weight_bps > 0).map((e) => e.revision_id));
    const draining = (current?.config.draining ?? []).filter((id) => !gaining.has(id) && entries.some((e) => e.revision_id === id));
    await this.routers.ensure(deploymentId, address, metricsAddress, { deployment_id: deploymentId, entries, draining });
  }

  /** The weights the router reports; [] when its router died; null when it never had one. */
  async observed(deploymentId: string): Promise<SplitEntry[] | null> {
    const status = await this.routers.status(deploymentId);
    if (status) return status.config.entries.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps }));
    return this.routers.hasRecord(deploymentId) ? [] : null;
  }

  /** The router's metrics text, read now; a ProviderError when no router runs. */
  scrape(deploymentId: string, signal: AbortSignal): Promise<string> {
    return this.routers.scrape(deploymentId, signal);
  }

  async release(deploymentId: string): Promise<void> {
    await this.routers.stop(deploymentId);
  }

  /**
   * Updates one revision in a running router: new backends (null keeps them) and whether it
   * is draining. Does nothing when no router runs or it does not route the revision.
   */
  async refresh(deploymentId: string, revisionId: string, backends: string[] | null, draining: boolean): Promise<void> {
    const status = await this.routers.status(deploymentId);
    const entry = status?.config.entries.find((e) => e.revision_id === revisionId);
    if (!status || !entry) return;
    const config: RouterConfig = status.config;
    const sameBackends = backends === null || JSON.stringify(backends) === JSON.stringify(entry.backends);
    const isDraining = config.draining.includes(revisionId);
    // A container restarted behind an unchanged port is still marked down in the router: re-push.
    const markedDown = status.backends.some((b) => b.revision_id === revisionId && !b.healthy);
    if (sameBackends && isDraining === draining && !markedDown) return;
    await this.routers.reconfigure(deploymentId, {
      deployment_id: deploymentId,
      entries: config.entries.map((e) => (e.revision_id === revisionId && backends !== null ? { ...e, backends } : e)),
      draining: draining ? [...new Set([...config.draining, revisionId])] : config.draining.filter((d) => d !== revisionId),
    });
  }

  /** Waits until the router reports no request in flight to the revision, up to drain_seconds. */
  async waitForInFlight(deploymentId: string, revision: DeployerRevision, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + revision.drain_seconds * 1000;
    for (;;) {
      if (signal.aborted) throw new AbortedError(`draining "${revision.revision_id}" was aborted`);
      const status = await this.routers.status(deploymentId);
      const inFlight = (status?.backends ?? [])
        .filter((b) => b.revision_id === revision.revision_id)
        .reduce((n, b) => n + b.in_flight, 0);
      if (!status || inFlight === 0 || Date.now() >= deadline) return;
      await sleep(DRAIN_POLL_MS);
    }
  }
}
