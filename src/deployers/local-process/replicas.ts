/**
 * A revision's replicas: start them, prove them healthy, replace the dead, stop them.
 * Records are written before the health wait so a crash of bp mid-warm still leaves
 * every started process findable.
 */
import type { DeployerRevision, Logger, VerbOptions } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { done, pending } from '../kit/poll.js';
import { logTail } from '../local-host/files.js';
import { freePort, portIsFree } from '../local-host/net.js';
import { isAlive, spawnDetached, stopProcess } from '../local-host/proc.js';
import { type HealthWait, probeHealth, warmReplicaSet } from '../local-host/replica-set.js';
import type { ResolvedCommand } from './command.js';
import type { LocalStore, ReplicaRecord } from './store.js';
import { leastEnvironment } from '../least-env.js';

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
  return isAlive(rec) && (await probeHealth(rec.url, healthPath)).ok;
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

/** Healthy: the process runs and answers the health path. */
function healthOf(deps: ReplicaDeps, revision: DeployerRevision, rec: ReplicaRecord): HealthWait<ReplicaRecord> {
  const { http_path: path, timeout_seconds: seconds } = revision.health;
  const log = deps.store.replicaLog(revision.revision_id, rec.index);
  return {
    who: `revision "${revision.revision_id}" replica ${rec.index}`,
    check: async (probe, progress) => {
      if (!isAlive(rec)) {
        throw new ProviderError(
          `revision "${revision.revision_id}" replica ${rec.index} (pid ${rec.pid}) exited before it became healthy; ` +
            `last lines of ${log}:\n${logTail(log)}`,
        );
      }
      const result = await probe(rec.url);
      if (result.ok) return done(rec);
      progress.pending(`last probe ${result.detail}`);
      return pending(result.detail);
    },
    onTimeout: (last) =>
      new ProviderError(
        `revision "${revision.revision_id}" replica ${rec.index} did not answer ${path} with 2xx within ${seconds}s ` +
          `(${last.detail ?? 'no answer yet'}); last lines of ${log}:\n${logTail(log)}`,
        { retryable: true },
      ),
  };
}

/**
 * Makes `resources.replicas` healthy replicas run: keeps healthy ones, replaces the rest.
 * On failure or abort, stops what this call started and leaves the others as they were.
 */
export async function warmReplicas(
  deps: ReplicaDeps,
  revision: DeployerRevision,
  cmd: ResolvedCommand,
  opts: VerbOptions,
): Promise<ReplicaRecord[]> {
  const existing = deps.store.readReplicas(revision.revision_id);
  const at = (index: number) => existing.find((r) => r.index === index);
  // Each replica is on record as soon as it is spawned: a crash of bp mid-warm leaves it findable.
  let records: ReplicaRecord[] = [];
  const save = (now: ReplicaRecord[]): void => {
    records = now;
    deps.store.writeReplicas(
      revision.revision_id,
      [...now].sort((a, b) => a.index - b.index),
    );
  };
  return warmReplicaSet({
    revision,
    unit: 'replicas',
    opts,
    keep: async (index) => {
      const rec = at(index);
      return rec && sameCommand(rec.command, cmd.argv) && (await isHealthy(rec, revision.health.http_path))
        ? rec
        : null;
    },
    clear: async (kept) => {
      for (const rec of existing.filter((r) => !kept.includes(r))) await stopProcess(rec, deps.killGraceMs);
      save(kept);
    },
    start: async (index) => {
      const rec = await startReplica(deps, revision, cmd, index, at(index)?.port ?? null);
      save([...records, rec]);
      return rec;
    },
    healthIntervalMs: HEALTH_POLL_MS,
    health: (rec) => healthOf(deps, revision, rec),
    discard: async (started) => {
      await Promise.all(started.map((rec) => stopProcess(rec, 0)));
      save(records.filter((r) => !started.includes(r)));
    },
  });
}

/** Stops every replica on record (SIGTERM, SIGKILL after the grace) and forgets them. */
export async function stopReplicas(deps: ReplicaDeps, revisionId: string): Promise<void> {
  const records = deps.store.readReplicas(revisionId);
  if (records.length === 0) return;
  await Promise.all(records.map((rec) => stopProcess(rec, deps.killGraceMs)));
  deps.store.writeReplicas(revisionId, []);
}
