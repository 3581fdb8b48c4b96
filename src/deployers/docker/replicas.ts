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
  VerbProgress,
} from '../../model/deployer.js';
import { AbortedError, BpError, ProviderError } from '../../model/errors.js';
import { done, pending, pollUntil } from '../kit/poll.js';
import { replicaProgress, type ReplicaProgress } from '../kit/progress.js';
import { freePort, probe } from '../local-host/net.js';
import {
  type ContainerDeps,
  createAndStart,
  describeContainer,
  listContainers,
  logTail,
  removeContainer,
  type RevisionContainer,
} from './containers.js';

const PROBE_TIMEOUT_MS = 2000;
const HEALTH_POLL_MS = 150;

export interface ReplicaDeps extends ContainerDeps {
  logger: Logger;
}

export async function isHealthy(c: RevisionContainer, healthPath: string): Promise<boolean> {
  return c.running && c.url !== null && (await probe(c.url, healthPath, PROBE_TIMEOUT_MS)).ok;
}

function wantedReplicas(revision: DeployerRevision): number {
  return Math.max(1, revision.resources.replicas);
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

async function waitHealthy(
  deps: ReplicaDeps,
  revision: DeployerRevision,
  started: RevisionContainer,
  signal: AbortSignal,
  progress: ReplicaProgress,
): Promise<RevisionContainer> {
  const { http_path: path, timeout_seconds: seconds } = revision.health;
  const deadline = Date.now() + seconds * 1000;
  let c = started;
  let last = 'no answer yet';
  return pollUntil(
    async () => {
      if (c.url) {
        const result = await probe(c.url, path, Math.min(PROBE_TIMEOUT_MS, Math.max(100, deadline - Date.now())));
        if (result.ok) {
          progress.healthy();
          return done(c);
        }
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
    {
      what: `container ${c.name} to answer ${path}`,
      timeoutMs: seconds * 1000,
      intervalMs: HEALTH_POLL_MS,
      signal,
      during: `warming "${revision.revision_id}"`,
      onTimeout: () =>
        failWithLogs(
          deps,
          c,
          revision.revision_id,
          `did not answer ${path} with 2xx through ${c.url ?? 'its published port'} within ${seconds}s (${last})`,
          true,
        ),
    },
  );
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
  signal: AbortSignal,
  report?: (p: VerbProgress) => void,
): Promise<RevisionContainer[]> {
  const id = revision.revision_id;
  const wanted = wantedReplicas(revision);
  const existing = await listContainers(deps, env.environment_id, id);
  const kept: RevisionContainer[] = [];
  const missing: number[] = [];
  for (let index = 0; index < wanted; index++) {
    const mine = existing.filter((c) => c.index === index);
    const healthy = mine.length === 1 && (await isHealthy(mine[0], revision.health.http_path)) ? mine[0] : null;
    if (healthy) kept.push(healthy);
    else missing.push(index);
  }
  // Unhealthy, stopped, duplicate or surplus replicas go; their names are needed again.
  for (const c of existing.filter((x) => !kept.includes(x))) await removeContainer(deps, c.id);

  const started: RevisionContainer[] = [];
  try {
    for (const index of missing) {
      if (signal.aborted) throw new AbortedError(`warming "${id}" was aborted`);
      const hostPort = deps.settings.networkMode === 'host' ? await freePort(deps.settings.publishIp) : null;
      const c = await createAndStart(deps, { environment: env, deployment, revision, index, hostPort });
      deps.logger.debug('container started', { revision_id: id, container: c.name, url: c.url });
      started.push(c);
    }
    const progress = replicaProgress(report, {
      waitingFor: `containers of "${id}" to answer ${revision.health.http_path}`,
      wanted,
      healthy: kept.length,
    });
    progress.pending();
    const healthy = await Promise.all(started.map((c) => waitHealthy(deps, revision, c, signal, progress)));
    return [...kept, ...healthy].sort((a, b) => a.index - b.index);
  } catch (e) {
    await Promise.all(started.map((c) => removeContainer(deps, c.id).catch(() => undefined)));
    if (BpError.is(e)) throw e;
    throw new ProviderError(`cannot start revision "${id}": ${(e as Error).message}`, { cause: e, retryable: true });
  }
}
