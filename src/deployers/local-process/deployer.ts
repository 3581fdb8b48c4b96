/**
 * The local-process deployer: revisions are detached processes on this machine, each
 * deployment's traffic enters through its own router process on `listen`.
 */
import type { Deployer, DeployerDeployment, DeployerEnvironment, DeployerRevision, Logger } from '../kit/api.js';
import type { Observation, SplitEntry, StageResult, VerbOptions, WarmResult } from '../kit/api.js';
import { beginRevisionVerb, beginVerb, ProviderError } from '../kit/api.js';
import type { RouterEntry } from '../../router/config.js';
import { isAlive } from '../local-host/proc.js';
import { LocallyRoutedDeployer } from '../local-host/routed-verbs.js';
import { resolveCommand } from './command.js';
import { isHealthy, type ReplicaDeps, stopReplicas, warmReplicas } from './replicas.js';
import type { LocalStore } from './store.js';

export interface LocalProcessSettings {
  bindHost: string;
  killGraceMs: number;
  healthIntervalMs: number;
}

export class LocalProcessDeployer extends LocallyRoutedDeployer implements Deployer {
  private readonly replicaDeps: ReplicaDeps;

  constructor(
    private readonly store: LocalStore,
    settings: LocalProcessSettings,
    logger: Logger,
  ) {
    super(store.root, { logger, ...settings });
    this.replicaDeps = { store, bindHost: settings.bindHost, killGraceMs: settings.killGraceMs, logger };
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    const cmd = resolveCommand(revision, env.base_dir);
    return { outputs: { command_path: cmd.file, cwd: cmd.cwd } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const cmd = resolveCommand(revision, env.base_dir);
    const records = await this.local.exclusive(`revision:${revisionId}`, () =>
      warmReplicas(this.replicaDeps, revision, cmd, opts),
    );
    // A healed replica may have a new port, and a re-warmed revision must leave `draining`.
    const backends = records.map((r) => r.url);
    await this.local.warmed(deployment.deployment_id, revisionId, backends);
    return {
      endpoint: records[0].url,
      outputs: {
        backends,
        ports: records.map((r) => r.port),
        pids: records.map((r) => r.pid),
      },
    };
  }

  drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    return this.local.drain(env, revisionId, opts, () => stopReplicas(this.replicaDeps, revisionId));
  }

  archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    return this.local.archive(env, revisionId, opts, async () => {
      await stopReplicas(this.replicaDeps, revisionId);
      this.store.removeRevision(revisionId);
    });
  }

  applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions) {
    return this.local.split(env, deploymentId, opts, (deployment, e) => this.routerEntry(deployment, e));
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    const observation: Observation = { revisions: {}, splits: {} };
    const checks = this.observeSplits(env, observation);
    for (const deployment of env.deployments) {
      for (const revision of deployment.revisions) {
        checks.push(
          this.observeRevision(revision).then((o) => {
            observation.revisions[revision.revision_id] = o;
          }),
        );
      }
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
