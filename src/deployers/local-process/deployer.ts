/**
 * The local-process deployer: revisions are detached processes on this machine, each
 * deployment's traffic enters through its own router process on `listen`.
 */
import type {
  Deployer, DeployerDeployment, DeployerEnvironment, DeployerRevision, Logger, Observation,
  SplitResult, StageResult, VerbOptions, WarmResult,
} from '../../model/deployer.js';
import { enforceSplitInvariants, requireRevision } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { AbortedError, ProviderError } from '../../model/errors.js';
import type { RouterConfig, RouterEntry } from '../../router/config.js';
import { resolveCommand } from './command.js';
import { isHealthy, type ReplicaDeps, stopReplicas, warmReplicas } from './replicas.js';
import { isAlive, sleep } from './proc.js';
import { normalizeListen, normalizeMetricsListen, Routers } from './routers.js';
import type { LocalStore } from './store.js';
import { keyedMutex } from '../kit/mutex.js';

export interface LocalProcessSettings {
  bindHost: string;
  killGraceMs: number;
  healthIntervalMs: number;
}

const DRAIN_POLL_MS = 100;

function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(`${what} was aborted`);
}

export class LocalProcessDeployer implements Deployer {
  private readonly replicaDeps: ReplicaDeps;
  private readonly routers: Routers;
  /** Serializes read-modify-write of one router, rule or revision (bp runs verbs in parallel). */
  private readonly exclusive = keyedMutex();

  constructor(private readonly store: LocalStore, settings: LocalProcessSettings, logger: Logger) {
    this.replicaDeps = { store, bindHost: settings.bindHost, killGraceMs: settings.killGraceMs, logger };
    this.routers = new Routers({ store, logger, killGraceMs: settings.killGraceMs, healthIntervalMs: settings.healthIntervalMs });
  }


  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { revision } = requireRevision(env, revisionId);
    throwIfAborted(opts.signal, `staging "${revisionId}"`);
    const cmd = resolveCommand(revision, env.base_dir);
    return { outputs: { command_path: cmd.file, cwd: cmd.cwd } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = requireRevision(env, revisionId);
    throwIfAborted(opts.signal, `warming "${revisionId}"`);
    const cmd = resolveCommand(revision, env.base_dir);
    const records = await this.exclusive(`revision:${revisionId}`, () =>
      warmReplicas(this.replicaDeps, revision, cmd, opts.signal));
    // A healed replica may have a new port, and a re-warmed revision must leave `draining`.
    await this.exclusive(`router:${deployment.deployment_id}`, () =>
      this.refreshRouterEntry(deployment.deployment_id, revisionId, records.map((r) => r.url), false));
    return {
      endpoint: records[0].url,
      outputs: { backends: records.map((r) => r.url), ports: records.map((r) => r.port), pids: records.map((r) => r.pid) },
    };
  }

  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<Record<string, never>> {
    const { deployment, revision } = requireRevision(env, revisionId);
    throwIfAborted(opts.signal, `draining "${revisionId}"`);
    const deploymentId = deployment.deployment_id;
    await this.exclusive(`router:${deploymentId}`, () => this.refreshRouterEntry(deploymentId, revisionId, null, true));
    await this.waitForInFlight(deploymentId, revision, opts.signal);
    await this.exclusive(`revision:${revisionId}`, () => stopReplicas(this.replicaDeps, revisionId));
    return {};
  }

  async archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<Record<string, never>> {
    const { deployment } = requireRevision(env, revisionId);
    throwIfAborted(opts.signal, `archiving "${revisionId}"`);
    const deploymentId = deployment.deployment_id;
    await this.exclusive(`revision:${revisionId}`, async () => {
      await stopReplicas(this.replicaDeps, revisionId);
      this.store.removeRevision(revisionId);
    });
    await this.exclusive(`router:${deploymentId}`, async () => {
      const others = deployment.revisions.filter((r) => r.revision_id !== revisionId);
      // docs/design.md#traffic-rules: routing is released with the deployment's last revision.
      if (others.every((r) => !this.store.hasReplicas(r.revision_id))) {
        await this.routers.stop(deploymentId);
      } else {
        await this.refreshRouterEntry(deploymentId, revisionId, [], true);
      }
    });
    return {};
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { deployment, entries } = enforceSplitInvariants(env, deploymentId);
    throwIfAborted(opts.signal, `applying the split of "${deploymentId}"`);
    const listen = normalizeListen(deploymentId, deployment.listen);
    const metricsListen = normalizeMetricsListen(deploymentId, deployment.metrics_listen);
    const routerEntries = entries.map((e) => this.routerEntry(deployment, e));
    await this.exclusive(`router:${deploymentId}`, async () => {
      const current = await this.routers.status(deploymentId);
      const gaining = new Set(entries.filter((e) => e.weight_bps > 0).map((e) => e.revision_id));
      const draining = (current?.config.draining ?? []).filter((id) => !gaining.has(id) && entries.some((e) => e.revision_id === id));
      await this.routers.ensure(deploymentId, listen, metricsListen, { deployment_id: deploymentId, entries: routerEntries, draining });
    });
    return { applied_deployment_id: deploymentId, applied_entries: entries };
  }

  /** The deployment's router metrics (docs/metrics.md), read now from its metrics listener. */
  async scrapeMetrics(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<string> {
    throwIfAborted(opts.signal, `reading the metrics of "${deploymentId}"`);
    return this.routers.scrape(deploymentId, opts.signal);
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    throwIfAborted(opts.signal, 'observing');
    const observation: Observation = { revisions: {}, splits: {} };
    const checks: Promise<void>[] = [];
    for (const deployment of env.deployments) {
      for (const revision of deployment.revisions) {
        checks.push(this.observeRevision(revision).then((o) => {
          observation.revisions[revision.revision_id] = o;
        }));
      }
      checks.push(this.observeSplit(deployment.deployment_id).then((entries) => {
        if (entries) observation.splits[deployment.deployment_id] = entries;
      }));
    }
    await Promise.all(checks);
    return observation;
  }

  private async observeRevision(revision: DeployerRevision): Promise<{ present: boolean; healthy: boolean }> {
    const records = this.store.readReplicas(revision.revision_id);
    const present = records.some((r) => isAlive(r));
    if (!present || records.length < Math.max(1, revision.resources.replicas)) return { present, healthy: false };
    const healthy = await Promise.all(records.map((r) => isHealthy(r, revision.health.http_path)));
    return { present, healthy: healthy.every(Boolean) };
  }

  /** The weights the router itself reports; [] when its router died; null when it never had one. */
  private async observeSplit(deploymentId: string): Promise<SplitEntry[] | null> {
    const status = await this.routers.status(deploymentId);
    if (status) return status.config.entries.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps }));
    return this.routers.hasRecord(deploymentId) ? [] : null;
  }

  private routerEntry(deployment: DeployerDeployment, e: SplitEntry): RouterEntry {
    const revision = deployment.revisions.find((r) => r.revision_id === e.revision_id) as DeployerRevision;
    const records = this.store.readReplicas(e.revision_id);
    if (e.weight_bps > 0 && !records.some((r) => isAlive(r))) {
      throw new ProviderError(
        `revision "${e.revision_id}" would get ${e.weight_bps} bps of "${deployment.deployment_id}" but has no running replica; warm it first`,
      );
    }
    return { revision_id: e.revision_id, weight_bps: e.weight_bps, backends: records.map((r) => r.url), health_path: revision.health.http_path };
  }

  /**
   * Updates one revision in a running router: new backends (null keeps them) and whether
   * it is draining. Returns false when no router runs or it does not route the revision.
   */
  private async refreshRouterEntry(
    deploymentId: string, revisionId: string, backends: string[] | null, draining: boolean,
  ): Promise<boolean> {
    const status = await this.routers.status(deploymentId);
    const entry = status?.config.entries.find((e) => e.revision_id === revisionId);
    if (!status || !entry) return false;
    const config: RouterConfig = status.config;
    const sameBackends = backends === null || JSON.stringify(backends) === JSON.stringify(entry.backends);
    const isDraining = config.draining.includes(revisionId);
    // A replica restarted on its old port is still marked down in the router: re-push.
    const markedDown = status.backends.some((b) => b.revision_id === revisionId && !b.healthy);
    if (sameBackends && isDraining === draining && !markedDown) return true;
    await this.routers.reconfigure(deploymentId, {
      deployment_id: deploymentId,
      entries: config.entries.map((e) => (e.revision_id === revisionId && backends !== null ? { ...e, backends } : e)),
      draining: draining ? [...new Set([...config.draining, revisionId])] : config.draining.filter((d) => d !== revisionId),
    });
    return true;
  }

  /** Waits until the router reports no request in flight to the revision, up to drain_seconds. */
  private async waitForInFlight(deploymentId: string, revision: DeployerRevision, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + revision.drain_seconds * 1000;
    for (;;) {
      throwIfAborted(signal, `draining "${revision.revision_id}"`);
      const status = await this.routers.status(deploymentId);
      const inFlight = (status?.backends ?? [])
        .filter((b) => b.revision_id === revision.revision_id)
        .reduce((n, b) => n + b.in_flight, 0);
      if (!status || inFlight === 0 || Date.now() >= deadline) return;
      await sleep(DRAIN_POLL_MS);
    }
  }
}
