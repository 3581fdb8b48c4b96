/**
 * A revision's replicas: start them, prove them healthy, replace the dead, stop them.
 * Records are written before the health wait so a crash of bp mid-warm still leaves
 * every started process findable.
 */
import type { DeployerRevision, Logger, VerbProgress } from '../../model/deployer.js';
import { BpError, ProviderError } from '../../model/errors.js';
import { done, pending, pollUntil } from '../kit/poll.js';
import { replicaProgress, type ReplicaProgress } from '../kit/progress.js';
import { logTail } from '../local-host/files.js';
import { freePort, portIsFree, probe } from '../local-host/net.js';
import { isAlive, spawnDetached, stopProcess } from '../local-host/proc.js';
import type { ResolvedCommand } from './command.js';
import type { LocalStore, ReplicaRecord } from './store.js';
import { leastEnvironment } from '../least-env.js';

const PROBE_TIMEOUT_MS = 2000;
const HEALTH_POLL_MS = 100;

export interface ReplicaDeps {
  store: LocalStore;
  bindHost: string;
  killGraceMs: number;
  logger: Logger;
}

function urlFor(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function sameCommand(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function isHealthy(rec: ReplicaRecord, healthPath: string): Promise<boolean> {
  return isAlive(rec) && (await probe(rec.url, healthPath, PROBE_TIMEOUT_MS)).ok;
}

async function startReplica(
  deps: ReplicaDeps,
  revision: DeployerRevision,
  cmd: ResolvedCommand,
  index: number,
  previousPort: number | null,
): Promise<ReplicaRecord> {
  // Reusing a dead replica's port keeps router configs and recorded endpoints valid.
  const port =
    previousPort !== null && (await portIsFree(deps.bindHost, previousPort))
      ? previousPort
      : await freePort(deps.bindHost);
  const id = spawnDetached({
    command: cmd.file,
    args: cmd.args,
    cwd: cmd.cwd,
    env: leastEnvironment(revision.artifact.env, { PORT: String(port) }),
    logFile: deps.store.replicaLog(revision.revision_id, index),
  });
  deps.logger.debug('replica started', { revision_id: revision.revision_id, index, pid: id.pid, port });
  return {
    ...id,
    index,
    port,
    url: urlFor(deps.bindHost, port),
    command: cmd.argv,
    started_at: new Date().toISOString(),
  };
}

async function waitHealthy(
  deps: ReplicaDeps,
  revision: DeployerRevision,
  rec: ReplicaRecord,
  signal: AbortSignal,
  progress: ReplicaProgress,
): Promise<void> {
  const { http_path: path, timeout_seconds: seconds } = revision.health;
  const deadline = Date.now() + seconds * 1000;
  const log = deps.store.replicaLog(revision.revision_id, rec.index);
  await pollUntil(
    async () => {
      if (!isAlive(rec)) {
        throw new ProviderError(
          `revision "${revision.revision_id}" replica ${rec.index} (pid ${rec.pid}) exited before it became healthy; ` +
            `last lines of ${log}:\n${logTail(log)}`,
        );
      }
      const result = await probe(rec.url, path, Math.min(PROBE_TIMEOUT_MS, Math.max(100, deadline - Date.now())));
      if (result.ok) {
        progress.healthy();
        return done(undefined);
      }
      progress.pending(`last probe ${result.detail}`);
      return pending(result.detail);
    },
    {
      what: `revision "${revision.revision_id}" replica ${rec.index} to answer ${path}`,
      timeoutMs: seconds * 1000,
      intervalMs: HEALTH_POLL_MS,
      signal,
      during: `warming "${revision.revision_id}"`,
      onTimeout: (last) =>
        new ProviderError(
          `revision "${revision.revision_id}" replica ${rec.index} did not answer ${path} with 2xx within ${seconds}s ` +
            `(${last.detail ?? 'no answer yet'}); last lines of ${log}:\n${logTail(log)}`,
          { retryable: true },
        ),
    },
  );
}

/**
 * Makes `resources.replicas` healthy replicas run: keeps healthy ones, replaces the rest.
 * On failure or abort, stops what this call started and leaves the others as they were.
 */
export async function warmReplicas(
  deps: ReplicaDeps,
  revision: DeployerRevision,
  cmd: ResolvedCommand,
  signal: AbortSignal,
  report?: (p: VerbProgress) => void,
): Promise<ReplicaRecord[]> {
  const id = revision.revision_id;
  const wanted = Math.max(1, revision.resources.replicas);
  const existing = deps.store.readReplicas(id);
  const kept: ReplicaRecord[] = [];
  const replace: { index: number; port: number | null }[] = [];
  for (let index = 0; index < wanted; index++) {
    const rec = existing.find((r) => r.index === index);
    if (rec && sameCommand(rec.command, cmd.argv) && (await isHealthy(rec, revision.health.http_path))) {
      kept.push(rec);
      continue;
    }
    if (rec) await stopProcess(rec, deps.killGraceMs);
    replace.push({ index, port: rec?.port ?? null });
  }
  for (const extra of existing.filter((r) => r.index >= wanted)) await stopProcess(extra, deps.killGraceMs);

  const started: ReplicaRecord[] = [];
  const save = (): void =>
    deps.store.writeReplicas(
      id,
      [...kept, ...started].sort((a, b) => a.index - b.index),
    );
  try {
    for (const r of replace) {
      started.push(await startReplica(deps, revision, cmd, r.index, r.port));
      save();
    }
    save();
    const progress = replicaProgress(report, {
      waitingFor: `replicas of "${id}" to answer ${revision.health.http_path}`,
      wanted,
      healthy: kept.length,
    });
    progress.pending();
    await Promise.all(started.map((rec) => waitHealthy(deps, revision, rec, signal, progress)));
  } catch (e) {
    await Promise.all(started.map((rec) => stopProcess(rec, 0)));
    started.length = 0;
    save();
    if (BpError.is(e)) throw e;
    throw new ProviderError(`cannot start revision "${id}": ${(e as Error).message}`, { cause: e, retryable: true });
  }
  return [...kept, ...started].sort((a, b) => a.index - b.index);
}

/** Stops every replica on record (SIGTERM, SIGKILL after the grace) and forgets them. */
export async function stopReplicas(deps: ReplicaDeps, revisionId: string): Promise<void> {
  const records = deps.store.readReplicas(revisionId);
  if (records.length === 0) return;
  await Promise.all(records.map((rec) => stopProcess(rec, deps.killGraceMs)));
  deps.store.writeReplicas(revisionId, []);
}
