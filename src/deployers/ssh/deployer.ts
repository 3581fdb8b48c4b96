/**
 * The ssh deployer: each revision runs as detached processes on every configured host, and
 * each deployment's traffic enters through a router on every host. Every verb runs on all
 * hosts at once and is idempotent per host, so a retry after a partial failure converges.
 */
import { checkExecEnv } from '../kit/exec-limits.js';
import type { Deployer, DeployerDeployment, DeployerEnvironment, DeployerRevision, Logger } from '../kit/api.js';
import type { Observation, SplitEntry, SplitResult, StageResult, VerbOptions, WarmResult } from '../kit/api.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb, keyedMutex, ProviderError, throwIfAborted } from '../kit/api.js';
import type { RouterEntry } from '../../router/config.js';
import { refreshEntry, routedSplit, splitConfig, waitForInFlight } from '../kit/router-fleet.js';
import { replicaProgress } from '../kit/index.js';
import { artifactSource, artifactTree, remoteArgv } from './artifact.js';
import { onHosts } from './fleet.js';
import type { Host, ReplicaRecord } from './host.js';
import type { ConnectionPool } from './pool.js';
import { backendUrl, isHealthy, stopOnHost, warmOnHost } from './replicas.js';
import { mergeHostExpositions } from './metrics.js';
import {
  ensureRouter,
  hostListen,
  hostMetricsListen,
  readRouters,
  routerSite,
  routerStatus,
  scrapeRouter,
  stopRouter,
} from './routers.js';
import { CHECK_PROGRAM } from './scripts.js';
import { ensureUploaded } from './upload.js';

const DRAIN_POLL_MS = 200;

export class SshDeployer implements Deployer {
  /** Serializes read-modify-write of one router, rule or revision (bp runs verbs in parallel). */
  private readonly exclusive = keyedMutex();

  constructor(
    readonly hosts: Host[],
    readonly pool: ConnectionPool,
    private readonly logger: Logger,
    /** Local directories never uploaded (bp's own state). */
    private readonly excluded: string[],
  ) {}

  /** Serializes work on one revision or one deployment's routers (bp runs verbs in parallel). */

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    const source = artifactSource(revision, env.base_dir);
    let tree: ReturnType<typeof artifactTree> | null = null;
    const lazyTree = () => (tree ??= artifactTree(source, this.excluded));
    const digests = await this.exclusive(`revision:${revisionId}`, () =>
      onHosts(this.hosts, `staging "${revisionId}"`, async (host) => {
        const dir = await host.artifactDir(env.environment_id, revisionId);
        const { digest, uploaded } = await ensureUploaded(
          host,
          lazyTree,
          dir,
          await host.stagedMarker(env.environment_id, revisionId),
          opts.signal,
        );
        if (uploaded) this.logger.info('artifact uploaded', { host: host.label, revision_id: revisionId, digest });
        const program = remoteArgv(source, dir, host.settings.nodePath)[0];
        const check = await host.exec(CHECK_PROGRAM, [dir, program]);
        if (check.code !== 0) {
          throw new ProviderError(
            `revision "${revisionId}": program ${JSON.stringify(program)} is not executable on ${host.label}`,
            {
              retryable: false,
            },
          );
        }
        return digest;
      }),
    );
    return { outputs: { artifact_sha256: digests[0], hosts: this.hosts.map((h) => h.label) } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const source = artifactSource(revision, env.base_dir);
    // Resolved values may be longer than the references validate saw: checked before any host is asked.
    checkExecEnv(revisionId, revision.artifact.env);
    const hosts = this.hosts.length;
    const progress = replicaProgress(opts.progress, {
      waitingFor: `replicas of "${revisionId}" on ${hosts} host${hosts === 1 ? '' : 's'} to answer ${revision.health.http_path}`,
      wanted: Math.max(1, revision.resources.replicas) * hosts,
    });
    const perHost = await this.exclusive(`revision:${revisionId}`, () =>
      onHosts(this.hosts, `warming "${revisionId}"`, async (host) => {
        const cwd = await host.artifactDir(env.environment_id, revisionId);
        if (!(await host.readFile(await host.stagedMarker(env.environment_id, revisionId)))) {
          throw new ProviderError(`revision "${revisionId}" is not staged on ${host.label}; stage it first`, {
            retryable: false,
          });
        }
        return warmOnHost(
          host,
          {
            envId: env.environment_id,
            revision,
            cwd,
            argv: remoteArgv(source, cwd, host.settings.nodePath),
            env: revision.artifact.env,
          },
          opts.signal,
          progress,
        );
      }),
    );
    // A replaced replica has a new port, and a re-warmed revision must leave `draining`.
    await this.exclusive(`router:${deployment.deployment_id}`, () =>
      onHosts(this.hosts, `updating the routers of "${deployment.deployment_id}"`, (host) =>
        this.refreshRouterEntry(
          host,
          env.environment_id,
          deployment.deployment_id,
          revisionId,
          perHost[host.index],
          false,
        ),
      ),
    );
    const outputs: Record<string, unknown> = {};
    for (const host of this.hosts) {
      const recs = perHost[host.index];
      outputs[host.label] = { ports: recs.map((r) => r.port), pids: recs.map((r) => r.pid) };
    }
    const first = perHost[0][0];
    return { endpoint: `http://${this.hosts[0].config.host}:${first.port}`, outputs: { hosts: outputs } };
  }

  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'draining');
    const deploymentId = deployment.deployment_id;
    await this.exclusive(`router:${deploymentId}`, () =>
      onHosts(this.hosts, `draining "${revisionId}" in the routers`, (host) =>
        this.refreshRouterEntry(host, env.environment_id, deploymentId, revisionId, null, true),
      ),
    );
    await onHosts(this.hosts, `waiting for "${revisionId}" to drain`, (host) =>
      waitForInFlight(routerSite(host, env.environment_id, deploymentId), revision, opts.signal, {
        intervalMs: DRAIN_POLL_MS,
        progress: opts.progress,
        where: `on ${host.label}`,
      }),
    );
    await this.exclusive(`revision:${revisionId}`, () =>
      onHosts(this.hosts, `stopping "${revisionId}"`, (host) => stopOnHost(host, env.environment_id, revisionId)),
    );
    return {};
  }

  async archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment } = beginRevisionVerb(env, revisionId, opts, 'archiving');
    const envId = env.environment_id;
    const deploymentId = deployment.deployment_id;
    await this.exclusive(`revision:${revisionId}`, () =>
      onHosts(this.hosts, `archiving "${revisionId}"`, async (host) => {
        await stopOnHost(host, envId, revisionId, [
          await host.runDir(envId, revisionId),
          await host.artifactDir(envId, revisionId),
          await host.stagedMarker(envId, revisionId),
        ]);
      }),
    );
    await this.exclusive(`router:${deploymentId}`, () =>
      onHosts(this.hosts, `taking "${revisionId}" out of the routers`, (host) =>
        this.refreshRouterEntry(host, envId, deploymentId, revisionId, [], true),
      ),
    );
    return {};
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { deployment, entries } = beginSplitVerb(env, deploymentId, opts);
    const metricsListen = hostMetricsListen(deploymentId, deployment.metrics_listen);
    await this.exclusive(`router:${deploymentId}`, () =>
      onHosts(this.hosts, `applying the split of "${deploymentId}"`, async (host) => {
        const listen = hostListen(host, deploymentId, deployment.listen);
        const records = await host.readReplicas(env.environment_id);
        const routerEntries = entries.map((e) => this.routerEntry(host, deployment, e, records));
        const current = await routerSite(host, env.environment_id, deploymentId).status();
        await ensureRouter(
          host,
          env.environment_id,
          listen,
          metricsListen,
          splitConfig(deploymentId, routerEntries, current?.config ?? null),
          opts.signal,
        );
      }),
    );
    return { applied_deployment_id: deploymentId, applied_entries: entries };
  }

  async releaseRouting(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<void> {
    beginVerb(opts, `releasing the routing of "${deploymentId}"`);
    const envId = env.environment_id;
    await this.exclusive(`router:${deploymentId}`, () =>
      onHosts(this.hosts, `releasing the routers of "${deploymentId}"`, async (host) => {
        const rec = (await readRouters(host, envId)).get(deploymentId);
        if (rec) await stopRouter(host, envId, deploymentId, rec);
      }),
    );
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    const wanted = new Map<string, DeployerRevision>();
    for (const d of env.deployments) for (const r of d.revisions) wanted.set(r.revision_id, r);
    const perHost = await onHosts(this.hosts, 'observing', (host) => this.observeHost(host, env, wanted));
    const observation: Observation = { revisions: {}, splits: {} };
    const ids = new Set([...wanted.keys(), ...perHost.flatMap((h) => [...h.revisions.keys()])]);
    for (const id of ids) {
      const seen = perHost.map((h) => h.revisions.get(id) ?? { present: false, healthy: false });
      observation.revisions[id] = { present: seen.some((s) => s.present), healthy: seen.every((s) => s.healthy) };
    }
    const deployments = new Set([
      ...env.deployments.map((d) => d.deployment_id),
      ...perHost.flatMap((h) => [...h.splits.keys()]),
    ]);
    for (const id of deployments) {
      const splits = perHost.map((h) => h.splits.get(id) ?? null);
      if (splits.every((s) => s === null)) continue;
      const texts = new Set(splits.map((s) => JSON.stringify(s)));
      if (texts.size === 1) {
        observation.splits[id] = splits[0] as SplitEntry[];
      } else {
        // Hosts disagree (a partial apply): no split is enforced as a whole, so report none.
        this.logger.warn('hosts enforce different splits', {
          deployment_id: id,
          splits: Object.fromEntries(this.hosts.map((h, i) => [h.label, splits[i]])),
        });
        observation.splits[id] = [];
      }
    }
    return observation;
  }

  /**
   * The deployment's router metrics from every host, read through the SSH connections; each
   * sample carries a `host` label (see metrics.ts). No router on any host: nothing to read.
   */
  async scrapeMetrics(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<string> {
    beginVerb(opts, `reading the metrics of "${deploymentId}"`);
    const perHost = await onHosts(this.hosts, `reading the router metrics of "${deploymentId}"`, async (host) => {
      const rec = (await readRouters(host, env.environment_id)).get(deploymentId);
      return rec?.alive ? { host, rec } : { host, rec: null };
    });
    if (perHost.every((h) => h.rec === null)) {
      throw new ProviderError(
        `deployment "${deploymentId}" has no running router on any host, so it has no metrics to read; apply its traffic split first`,
        {
          retryable: false,
        },
      );
    }
    const texts = await onHosts(this.hosts, `reading the router metrics of "${deploymentId}"`, async (host) => {
      const { rec } = perHost[host.index];
      if (!rec)
        throw new ProviderError(`the router of "${deploymentId}" is not running on ${host.label}`, {
          retryable: false,
        });
      return scrapeRouter(host, rec);
    });
    throwIfAborted(opts.signal, `reading the metrics of "${deploymentId}"`);
    return mergeHostExpositions(this.hosts.map((h) => ({ host: h.label, text: texts[h.index] })));
  }

  async close(): Promise<void> {
    await this.pool.closeAll();
  }

  private async observeHost(host: Host, env: DeployerEnvironment, wanted: Map<string, DeployerRevision>) {
    const envId = env.environment_id;
    const [records, routers] = await Promise.all([host.readReplicas(envId), readRouters(host, envId)]);
    const byRevision = new Map<string, ReplicaRecord[]>();
    for (const r of records) byRevision.set(r.revision_id, [...(byRevision.get(r.revision_id) ?? []), r]);
    const revisions = new Map<string, { present: boolean; healthy: boolean }>();
    await Promise.all(
      [...byRevision].map(async ([id, recs]) => {
        const revision = wanted.get(id);
        const present = recs.some((r) => r.alive);
        const enough = recs.filter((r) => r.alive).length >= Math.max(1, revision?.resources.replicas ?? 1);
        const path = revision?.health.http_path ?? '/';
        const healthy =
          present && enough && (await Promise.all(recs.map((r) => isHealthy(host, r, path)))).every(Boolean);
        revisions.set(id, { present, healthy });
      }),
    );
    const splits = new Map<string, SplitEntry[]>();
    await Promise.all(
      [...routers].map(async ([id, rec]) => {
        // A router that died still counts as routing the deployment, but to nothing.
        const status = await routerStatus(host, rec);
        splits.set(id, status ? routedSplit(status) : []);
      }),
    );
    return { revisions, splits };
  }

  private routerEntry(
    host: Host,
    deployment: DeployerDeployment,
    e: SplitEntry,
    records: ReplicaRecord[],
  ): RouterEntry {
    const revision = deployment.revisions.find((r) => r.revision_id === e.revision_id) as DeployerRevision;
    const alive = records.filter((r) => r.revision_id === e.revision_id && r.alive);
    if (e.weight_bps > 0 && alive.length === 0) {
      throw new ProviderError(
        `revision "${e.revision_id}" would get ${e.weight_bps} bps of "${deployment.deployment_id}" but has no running replica on ${host.label}; warm it first`,
        { retryable: true },
      );
    }
    return {
      revision_id: e.revision_id,
      weight_bps: e.weight_bps,
      health_path: revision.health.http_path,
      backends: alive.map((r) => backendUrl(host.settings.bindHost, r.port)),
    };
  }

  /**
   * Updates one revision in this host's running router: new backends (null keeps them) and
   * whether it is draining. Does nothing when no router runs or it does not route the revision.
   */
  private async refreshRouterEntry(
    host: Host,
    envId: string,
    deploymentId: string,
    revisionId: string,
    records: ReplicaRecord[] | null,
    draining: boolean,
  ): Promise<void> {
    const backends = records === null ? null : records.map((r) => backendUrl(host.settings.bindHost, r.port));
    await refreshEntry(routerSite(host, envId, deploymentId), revisionId, backends, draining);
  }
}
