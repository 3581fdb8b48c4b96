/**
 * The docker deployer: each revision runs as labelled containers on a Docker engine (or
 * podman's Docker-compatible API), each deployment's traffic enters through a weighted
 * router process on this host in front of the containers' published ports.
 */
import type { Deployer, DeployerDeployment, DeployerEnvironment, DeployerRevision, Logger } from '../kit/api.js';
import type { Observation, ObservedRevision, StageResult, VerbOptions, WarmResult } from '../kit/api.js';
import { beginRevisionVerb, beginVerb, ProviderError } from '../kit/api.js';
import type { RouterEntry } from '../../router/config.js';
import { LocallyRoutedDeployer } from '../local-host/routed-verbs.js';
import type { DockerSettings } from './config.js';
import { listContainers, removeContainer, type RevisionContainer, stopContainer } from './containers.js';
import type { Engine } from './engine.js';
import { ensureImage } from './images.js';
import { checkContainerEnv, checkEngineCpus, checkImage, checkResources } from './limits.js';
import { isSecretValue } from './secret-files.js';
import { isHealthy, type ReplicaDeps, warmContainers } from './replicas.js';

export interface DockerDeployerDeps {
  engine: Engine;
  settings: DockerSettings;
  where: string;
  stateDir: string;
  logger: Logger;
}

/** The deployments' routers run on this host, like local-process's, with records under the state dir. */
export class DockerDeployer extends LocallyRoutedDeployer implements Deployer {
  private readonly deps: ReplicaDeps;

  constructor(deps: DockerDeployerDeps) {
    super(deps.stateDir, { logger: deps.logger, ...deps.settings });
    this.deps = { engine: deps.engine, settings: deps.settings, where: deps.where, logger: deps.logger };
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    const image = checkImage(revision);
    checkResources(revision);
    await checkEngineCpus(this.deps.engine, revision, this.deps.where);
    const staged = await ensureImage(this.deps.engine, image, this.deps.settings, this.deps.where, opts.signal);
    return { outputs: { image: staged.image, image_id: staged.image_id } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    // What the engine would refuse is refused before any container is created (docker.md, Limits).
    checkImage(revision);
    checkResources(revision);
    checkContainerEnv(revision, this.deps.settings.secretsDir !== null, isSecretValue);
    await checkEngineCpus(this.deps.engine, revision, this.deps.where);
    const containers = await this.local.exclusive(`revision:${revisionId}`, () =>
      warmContainers(this.deps, env, deployment, revision, opts),
    );
    const backends = containers.map((c) => c.url as string);
    // A healed replica may have a new port, and a re-warmed revision must leave `draining`.
    await this.local.warmed(deployment.deployment_id, revisionId, backends);
    return {
      endpoint: backends[0],
      outputs: { backends, containers: containers.map((c) => c.name), container_ids: containers.map((c) => c.id) },
    };
  }

  drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    return this.local.drain(env, revisionId, opts, async (revision) => {
      const containers = await listContainers(this.deps, env.environment_id, revisionId);
      // drain_seconds is also the container's SIGTERM-to-SIGKILL grace.
      await Promise.all(
        containers.filter((c) => c.running).map((c) => stopContainer(this.deps, c.id, revision.drain_seconds)),
      );
    });
  }

  archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    return this.local.archive(env, revisionId, opts, async () => {
      const containers = await listContainers(this.deps, env.environment_id, revisionId);
      await Promise.all(containers.map((c) => removeContainer(this.deps, c.id)));
    });
  }

  applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions) {
    // Listed once, and only after the split's preconditions held.
    let all: Promise<RevisionContainer[]> | undefined;
    return this.local.split(env, deploymentId, opts, async (deployment, e) =>
      this.routerEntry(deployment, e, await (all ??= listContainers(this.deps, env.environment_id))),
    );
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    const observation: Observation = { revisions: {}, splits: {} };
    const all = await listContainers(this.deps, env.environment_id);
    const checks = this.observeSplits(env, observation);
    const declared = new Map(env.deployments.flatMap((d) => d.revisions.map((r) => [r.revision_id, r] as const)));
    // Containers of this deployer's deployments that env no longer names are reported too (leaks, drift).
    const mine = new Set(env.deployments.map((d) => d.deployment_id));
    const revisionIds = new Set([
      ...declared.keys(),
      ...all.filter((c) => mine.has(c.deploymentId)).map((c) => c.revisionId),
    ]);
    for (const id of revisionIds) {
      const containers = all.filter((c) => c.revisionId === id);
      checks.push(
        observeRevision(containers, declared.get(id)).then((o) => {
          observation.revisions[id] = o;
        }),
      );
    }
    await Promise.all(checks);
    return observation;
  }

  private routerEntry(
    deployment: DeployerDeployment,
    e: { revision_id: string; weight_bps: number },
    all: RevisionContainer[],
  ): RouterEntry {
    const revision = deployment.revisions.find((r) => r.revision_id === e.revision_id) as DeployerRevision;
    const backends = all.filter((c) => c.revisionId === e.revision_id && c.url !== null).map((c) => c.url as string);
    if (e.weight_bps > 0 && backends.length === 0) {
      throw new ProviderError(
        `revision "${e.revision_id}" would get ${e.weight_bps} bps of "${deployment.deployment_id}" but has no running container; warm it first`,
        { retryable: true },
      );
    }
    return { revision_id: e.revision_id, weight_bps: e.weight_bps, backends, health_path: revision.health.http_path };
  }
}

/** Present: some container runs. Healthy: every wanted replica runs and answers its health path. */
async function observeRevision(
  containers: RevisionContainer[],
  revision: DeployerRevision | undefined,
): Promise<ObservedRevision> {
  const running = containers.filter((c) => c.running);
  const present = running.length > 0;
  const wanted = Math.max(1, revision?.resources.replicas ?? 1);
  if (!present || running.length < wanted) return { present, healthy: false };
  const healthPath = revision?.health.http_path ?? '/';
  const healthy = await Promise.all(running.map((c) => isHealthy(c, healthPath)));
  return { present, healthy: healthy.every(Boolean) };
}
