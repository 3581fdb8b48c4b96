/**
 * A revision's replicas as containers: keep the healthy ones, replace the rest, prove the
 * new ones healthy through their published ports, and on failure remove what this call
 * created and report the container's last log lines.
 */
import type {
  DeployerDeployment,
  DeployerEnvironment,
  DeployerRevision,
  Logger,
  VerbOptions,
} from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { done, pending } from '../kit/poll.js';
import { freePort } from '../local-host/net.js';
import { type HealthWait, probeHealth, warmReplicaSet } from '../local-host/replica-set.js';
import {
  type ContainerDeps,
  createAndStart,
  describeContainer,
  listContainers,
  logTail,
  removeContainer,
  type RevisionContainer,
} from './containers.js';

const HEALTH_POLL_MS = 150;

export interface ReplicaDeps extends ContainerDeps {
  logger: Logger;
}

export async function isHealthy(c: RevisionContainer, healthPath: string): Promise<boolean> {
  return c.running && c.url !== null && (await probeHealth(c.url, healthPath)).ok;
}

async function failWithLogs(
  deps: ReplicaDeps,
  c: RevisionContainer,
  revisionId: string,
  why: string,
  retryable: boolean,
): Promise<never> {
  const tail = await logTail(deps, c.id);
  throw new ProviderError(`revision "${revisionId}" container ${c.name} ${why}; its last log lines:\n${tail}`, {
    retryable,
  });
}

/** Healthy: the container answers the health path through its published port; stopped, it never will. */
function healthOf(
  deps: ReplicaDeps,
  revision: DeployerRevision,
  started: RevisionContainer,
): HealthWait<RevisionContainer> {
  const { http_path: path, timeout_seconds: seconds } = revision.health;
  let c = started;
  let last = 'no answer yet';
  return {
    who: `container ${c.name}`,
    check: async (probe, progress) => {
      if (c.url) {
        const result = await probe(c.url);
        if (result.ok) return done(c);
        last = result.detail;
      }
      const now = await describeContainer(deps, c.id);
      if (!now)
        throw new ProviderError(
          `revision "${revision.revision_id}" container ${c.name} was removed while it was warming`,
          { retryable: true },
        );
      c = now;
      if (!c.running && c.state !== 'created') {
        await failWithLogs(deps, c, revision.revision_id, `stopped (${c.state}) before it became healthy`, false);
      }
      progress.pending(c.url ? `last probe ${last}` : `container ${c.state}`);
      return pending(last);
    },
    onTimeout: () =>
      failWithLogs(
        deps,
        c,
        revision.revision_id,
        `did not answer ${path} with 2xx through ${c.url ?? 'its published port'} within ${seconds}s (${last})`,
        true,
      ),
  };
}

/**
 * Makes `resources.replicas` healthy containers run for the revision and returns them by
 * replica index. Healthy replicas are kept (same container, same published port).
 */
export async function warmContainers(
  deps: ReplicaDeps,
  env: DeployerEnvironment,
  deployment: DeployerDeployment,
  revision: DeployerRevision,
  opts: VerbOptions,
): Promise<RevisionContainer[]> {
  const existing = await listContainers(deps, env.environment_id, revision.revision_id);
  return warmReplicaSet({
    revision,
    unit: 'containers',
    opts,
    keep: async (index) => {
      const mine = existing.filter((c) => c.index === index);
      return mine.length === 1 && (await isHealthy(mine[0], revision.health.http_path)) ? mine[0] : null;
    },
    // Unhealthy, stopped, duplicate or surplus replicas go; their names are needed again.
    clear: async (kept) => {
      for (const c of existing.filter((x) => !kept.includes(x))) await removeContainer(deps, c.id);
    },
    start: async (index) => {
      const hostPort = deps.settings.networkMode === 'host' ? await freePort(deps.settings.publishIp) : null;
      const c = await createAndStart(deps, { environment: env, deployment, revision, index, hostPort });
      deps.logger.debug('container started', { revision_id: revision.revision_id, container: c.name, url: c.url });
      return c;
    },
    healthIntervalMs: HEALTH_POLL_MS,
    health: (c) => healthOf(deps, revision, c),
    discard: (started) => Promise.all(started.map((c) => removeContainer(deps, c.id).catch(() => undefined))),
  });
}
