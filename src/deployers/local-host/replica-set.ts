/**
 * Warming a revision's replicas on this host, as local-process (processes) and docker
 * (containers) both do it: healthy replicas are kept, the missing ones are started one by one,
 * then all of them must answer the health path. On a failure or an abort, what this call
 * started is undone and the others are left as they were.
 */
import type { DeployerRevision, VerbOptions } from '../../model/deployer.js';
import { throwIfAborted } from '../kit/abort.js';
import { BpError, ProviderError } from '../../model/errors.js';
import { type PollCheck, type PollProgress, pollUntil } from '../kit/poll.js';
import { replicaProgress, type ReplicaProgress } from '../kit/progress.js';
import { probe, type ProbeResult } from './net.js';

/** The longest one health probe waits for an answer. */
const PROBE_TIMEOUT_MS = 2000;

/** Probes a replica's health path; with a `deadline` (epoch ms), gives up by then (but waits 100 ms at least). */
export function probeHealth(url: string, path: string, deadline?: number): Promise<ProbeResult> {
  const timeoutMs =
    deadline === undefined ? PROBE_TIMEOUT_MS : Math.min(PROBE_TIMEOUT_MS, Math.max(100, deadline - Date.now()));
  return probe(url, path, timeoutMs);
}

/** How to tell that one started replica became healthy. */
export interface HealthWait<Replica> {
  /** Who must answer the health path, for messages: `container web-v2-0`. */
  who: string;
  /**
   * One look: done with the replica (as it is now) once `probe(url)` (a GET of the health path
   * that gives up by the health deadline) passes; pending with what was seen; throws when it
   * can never pass (the process exited). Reports what it saw to `progress.pending`.
   */
  check(probe: (url: string) => Promise<ProbeResult>, progress: ReplicaProgress): Promise<PollCheck<Replica>>;
  onTimeout(last: PollProgress): Error | Promise<Error>;
}

export interface ReplicaSetWarm<Replica extends { index: number }> {
  revision: DeployerRevision;
  /** What the replicas are, for progress: `replicas`, `containers`. */
  unit: string;
  /** The replica at `index` when it runs healthy and may stay as it is; null: one is started there. */
  keep(index: number): Promise<Replica | null>;
  /** Takes away every replica not kept (unhealthy, stopped, surplus), before any is started. */
  clear(kept: Replica[]): Promise<unknown>;
  start(index: number): Promise<Replica>;
  /** How often a started replica's health is looked at, until `revision.health.timeout_seconds`. */
  healthIntervalMs: number;
  health(started: Replica): HealthWait<Replica>;
  /** Undoes the replicas this call started, after a failure or an abort. */
  discard(started: Replica[]): Promise<unknown>;
  /** The warm's options: an abort stops it before the next start; progress counts healthy replicas. */
  opts: VerbOptions;
}

/** Makes `resources.replicas` healthy replicas run; returns them by index. */
export async function warmReplicaSet<Replica extends { index: number }>(
  w: ReplicaSetWarm<Replica>,
): Promise<Replica[]> {
  const id = w.revision.revision_id;
  const wanted = Math.max(1, w.revision.resources.replicas);
  const kept: Replica[] = [];
  const missing: number[] = [];
  for (let index = 0; index < wanted; index++) {
    const healthy = await w.keep(index);
    if (healthy) kept.push(healthy);
    else missing.push(index);
  }
  await w.clear(kept);
  const started: Replica[] = [];
  try {
    for (const index of missing) {
      throwIfAborted(w.opts.signal, `warming "${id}"`);
      started.push(await w.start(index));
    }
    const progress = replicaProgress(w.opts.progress, {
      waitingFor: `${w.unit} of "${id}" to answer ${w.revision.health.http_path}`,
      wanted,
      healthy: kept.length,
    });
    progress.pending();
    const healthy = await Promise.all(started.map((r) => waitHealthy(w, w.health(r), progress)));
    return [...kept, ...healthy].sort((a, b) => a.index - b.index);
  } catch (e) {
    await w.discard(started);
    if (BpError.is(e)) throw e;
    throw new ProviderError(`cannot start revision "${id}": ${(e as Error).message}`, { cause: e, retryable: true });
  }
}

function waitHealthy<Replica extends { index: number }>(
  w: ReplicaSetWarm<Replica>,
  wait: HealthWait<Replica>,
  progress: ReplicaProgress,
): Promise<Replica> {
  const { http_path: path, timeout_seconds: seconds } = w.revision.health;
  const deadline = Date.now() + seconds * 1000;
  return pollUntil(
    async () => {
      const seen = await wait.check((url) => probeHealth(url, path, deadline), progress);
      if (seen.done) progress.healthy();
      return seen;
    },
    {
      what: `${wait.who} to answer ${path}`,
      timeoutMs: seconds * 1000,
      intervalMs: w.healthIntervalMs,
      signal: w.opts.signal,
      during: `warming "${w.revision.revision_id}"`,
      onTimeout: (last) => wait.onTimeout(last),
    },
  );
}
