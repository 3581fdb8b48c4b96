/**
 * The verb bodies local-process and docker share: both run a revision's replicas on this host
 * behind one local router per deployment (`Routers`). What differs (starting, stopping and
 * removing replicas, a router entry's backends) is passed in; the order of router and replica
 * work, and the locks around them, live here once.
 */
import type { DeployerDeployment, DeployerEnvironment, DeployerRevision, SplitEntry, SplitResult } from '../kit/api.js';
import type { Observation, VerbOptions } from '../kit/api.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb, keyedMutex } from '../kit/api.js';
import type { RouterEntry } from '../../router/config.js';
import { RouterStore } from './router-store.js';
import { normalizeListen, type RouterDeps, Routers } from './routers.js';

/** How the routers run: who logs, the SIGTERM-to-SIGKILL grace, how often they probe backends. */
export type RouterOptions = Omit<RouterDeps, 'store'>;

export class RoutedVerbs {
  /** Serializes read-modify-write of one router or revision (bp runs verbs in parallel). */
  readonly exclusive = keyedMutex();

  readonly routers: Routers;

  /** Routers whose records live under `dir` (the deployer's state directory). */
  constructor(dir: string, o: RouterOptions) {
    this.routers = new Routers({ store: new RouterStore(dir), ...o });
  }

  /** After a warm: the router routes the revision's (maybe new) backends, and it leaves `draining`. */
  async warmed(deploymentId: string, revisionId: string, backends: string[]): Promise<void> {
    await this.exclusive(`router:${deploymentId}`, () =>
      this.routers.refresh(deploymentId, revisionId, backends, false),
    );
  }

  /** Stops new requests, waits for in-flight ones (up to drain_seconds), then `stop`s the replicas. */
  async drain(
    env: DeployerEnvironment,
    revisionId: string,
    opts: VerbOptions,
    stop: (revision: DeployerRevision) => Promise<unknown>,
  ): Promise<Record<string, never>> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'draining');
    const deploymentId = deployment.deployment_id;
    await this.exclusive(`router:${deploymentId}`, () => this.routers.refresh(deploymentId, revisionId, null, true));
    await this.routers.waitForInFlight(deploymentId, revision, opts);
    await this.exclusive(`revision:${revisionId}`, () => stop(revision));
    return {};
  }

  /** `remove`s the replicas, then takes the revision out of the router (bp releases the router itself). */
  async archive(
    env: DeployerEnvironment,
    revisionId: string,
    opts: VerbOptions,
    remove: () => Promise<unknown>,
  ): Promise<Record<string, never>> {
    const { deployment } = beginRevisionVerb(env, revisionId, opts, 'archiving');
    const deploymentId = deployment.deployment_id;
    await this.exclusive(`revision:${revisionId}`, remove);
    await this.exclusive(`router:${deploymentId}`, () => this.routers.refresh(deploymentId, revisionId, [], true));
    return {};
  }

  /** Enforces the split with the router entries `entryOf` builds (it refuses weight on a revision with no replica). */
  async split(
    env: DeployerEnvironment,
    deploymentId: string,
    opts: VerbOptions,
    entryOf: (deployment: DeployerDeployment, e: SplitEntry) => RouterEntry | Promise<RouterEntry>,
  ): Promise<SplitResult> {
    const { deployment, entries } = beginSplitVerb(env, deploymentId, opts);
    normalizeListen(deploymentId, deployment.listen); // an address problem first, before replica problems
    const routerEntries = await Promise.all(entries.map((e) => entryOf(deployment, e)));
    await this.exclusive(`router:${deploymentId}`, () =>
      this.routers.enforce(deploymentId, deployment.listen, deployment.metrics_listen, routerEntries),
    );
    return { applied_deployment_id: deploymentId, applied_entries: entries };
  }

  /** The deployment's router metrics (docs/metrics.md), read now from its metrics listener. */
  scrape(deploymentId: string, opts: VerbOptions): Promise<string> {
    beginVerb(opts, `reading the metrics of "${deploymentId}"`);
    return this.routers.scrape(deploymentId, opts.signal);
  }

  /** Stops the deployment's router: bp calls it before archiving the last revision. */
  async release(deploymentId: string, opts: VerbOptions): Promise<void> {
    beginVerb(opts, `releasing the routing of "${deploymentId}"`);
    await this.exclusive(`router:${deploymentId}`, () => this.routers.stop(deploymentId));
  }
}

/**
 * A deployer whose deployments' routers run on this host (local-process, docker): reading a
 * router's metrics, releasing it and observing its split do not depend on how replicas run.
 */
export abstract class LocallyRoutedDeployer {
  protected readonly local: RoutedVerbs;

  /** Router records live under `dir` (the deployer's state directory). */
  constructor(dir: string, routers: RouterOptions) {
    this.local = new RoutedVerbs(dir, {
      logger: routers.logger,
      killGraceMs: routers.killGraceMs,
      healthIntervalMs: routers.healthIntervalMs,
    });
  }

  /** The deployment's router metrics (docs/metrics.md), read now from its metrics listener. */
  scrapeMetrics(_env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<string> {
    return this.local.scrape(deploymentId, opts);
  }

  releaseRouting(_env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<void> {
    return this.local.release(deploymentId, opts);
  }

  /** Each deployment's split as its router reports it, into `observation.splits` (none without a router). */
  protected observeSplits(env: DeployerEnvironment, observation: Observation): Promise<void>[] {
    return env.deployments.map((deployment) =>
      this.local.routers.observed(deployment.deployment_id).then((split) => {
        if (split) observation.splits[deployment.deployment_id] = split;
      }),
    );
  }
}
