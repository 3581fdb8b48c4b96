/**
 * The local-process deployer: revisions are detached processes on this machine, each
 * deployment's traffic enters through its own router process on `listen`.
 */
import type {
  Deployer,
  DeployerDeployment,
  DeployerEnvironment,
  DeployerRevision,
  Logger,
  Observation,
  SplitResult,
  StageResult,
  VerbOptions,
  WarmResult,
} from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';
import type { RouterEntry } from '../../router/config.js';
import { keyedMutex } from '../kit/mutex.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb } from '../kit/verb.js';
import { isAlive } from '../local-host/proc.js';
import { RouterStore } from '../local-host/router-store.js';
import { normalizeListen, Routers } from '../local-host/routers.js';
import { resolveCommand } from './command.js';
import { isHealthy, type ReplicaDeps, stopReplicas, warmReplicas } from './replicas.js';
import type { LocalStore } from './store.js';

export interface LocalProcessSettings {
  bindHost: string;
  killGraceMs: number;
  healthIntervalMs: number;
}

export class LocalProcessDeployer implements Deployer {
  private readonly replicaDeps: ReplicaDeps;
  private readonly routers: Routers;
  /** Serializes read-modify-write of one router, rule or revision (bp runs verbs in parallel). */
  private readonly exclusive = keyedMutex();

  constructor(
    private readonly store: LocalStore,
    settings: LocalProcessSettings,
    logger: Logger,
  ) {
    this.replicaDeps = { store, bindHost: settings.bindHost, killGraceMs: settings.killGraceMs, logger };
    this.routers = new Routers({
      store: new RouterStore(store.root),
      logger,
      killGraceMs: settings.killGraceMs,
      healthIntervalMs: settings.healthIntervalMs,
    });
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    const cmd = resolveCommand(revision, env.base_dir);
    return { outputs: { command_path: cmd.file, cwd: cmd.cwd } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const cmd = resolveCommand(revision, env.base_dir);
    const records = await this.exclusive(`revision:${revisionId}`, () =>
      warmReplicas(this.replicaDeps, revision, cmd, opts.signal, opts.progress),
    );
    // A healed replica may have a new port, and a re-warmed revision must leave `draining`.
    await this.exclusive(`router:${deployment.deployment_id}`, () =>
      this.routers.refresh(
        deployment.deployment_id,
        revisionId,
        records.map((r) => r.url),
        false,
      ),
    );
    return {
      endpoint: records[0].url,
      outputs: {
        backends: records.map((r) => r.url),
        ports: records.map((r) => r.port),
        pids: records.map((r) => r.pid),
      },
    };
  }

  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<Record<string, never>> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'draining');
    const deploymentId = deployment.deployment_id;
    await this.exclusive(`router:${deploymentId}`, () => this.routers.refresh(deploymentId, revisionId, null, true));
    await this.routers.waitForInFlight(deploymentId, revision, opts.signal);
    await this.exclusive(`revision:${revisionId}`, () => stopReplicas(this.replicaDeps, revisionId));
    return {};
  }

  async archiveRevision(
    env: DeployerEnvironment,
    revisionId: string,
    opts: VerbOptions,
  ): Promise<Record<string, never>> {
    const { deployment } = beginRevisionVerb(env, revisionId, opts, 'archiving');
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
        await this.routers.refresh(deploymentId, revisionId, [], true);
      }
    });
    return {};
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { deployment, entries } = beginSplitVerb(env, deploymentId, opts);
    normalizeListen(deploymentId, deployment.listen); // an address problem first, before replica problems
    const routerEntries = entries.map((e) => this.routerEntry(deployment, e));
    await this.exclusive(`router:${deploymentId}`, () =>
      this.routers.enforce(deploymentId, deployment.listen, deployment.metrics_listen, routerEntries),
    );
    return { applied_deployment_id: deploymentId, applied_entries: entries };
  }

  /** The deployment's router metrics (docs/metrics.md), read now from its metrics listener. */
  async scrapeMetrics(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<string> {
    beginVerb(opts, `reading the metrics of "${deploymentId}"`);
    return this.routers.scrape(deploymentId, opts.signal);
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    const observation: Observation = { revisions: {}, splits: {} };
    const checks: Promise<void>[] = [];
    for (const deployment of env.deployments) {
      for (const revision of deployment.revisions) {
        checks.push(
          this.observeRevision(revision).then((o) => {
            observation.revisions[revision.revision_id] = o;
          }),
        );
      }
      checks.push(
        this.routers.observed(deployment.deployment_id).then((entries) => {
          if (entries) observation.splits[deployment.deployment_id] = entries;
        }),
      );
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

  private routerEntry(deployment: DeployerDeployment, e: SplitEntry): RouterEntry {
    const revision = deployment.revisions.find((r) => r.revision_id === e.revision_id) as DeployerRevision;
    const records = this.store.readReplicas(e.revision_id);
    if (e.weight_bps > 0 && !records.some((r) => isAlive(r))) {
      throw new ProviderError(
        `revision "${e.revision_id}" would get ${e.weight_bps} bps of "${deployment.deployment_id}" but has no running replica; warm it first`,
      );
    }
    return {
      revision_id: e.revision_id,
      weight_bps: e.weight_bps,
      backends: records.map((r) => r.url),
      health_path: revision.health.http_path,
    };
  }
}
