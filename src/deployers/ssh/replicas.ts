/**
 * Replicas on one host: detached processes started through `START_REPLICA`, health-checked
 * through the SSH connection, stopped by process group with pid + start time.
 */
import type { DeployerRevision } from '../../model/deployer.js';
import { AbortedError, BpError, ProviderError } from '../../model/errors.js';
import { done, pending as notYet, pollUntil } from '../kit/poll.js';
import type { ReplicaProgress } from '../kit/progress.js';
import { argvDigest } from './artifact.js';
import type { Host, ReplicaRecord } from './host.js';
import { START_REPLICA, startReplicaArgs, STOP_REVISION } from './scripts.js';
import { envScript } from './shell.js';
import { tunnelProbe } from './tunnel-http.js';

const PROBE_TIMEOUT_MS = 2000;
const HEALTH_POLL_MS = 150;

/** The address a replica's port is reached at from its own host. */
export function loopbackFor(bindHost: string): string {
  if (bindHost === '0.0.0.0') return '127.0.0.1';
  if (bindHost === '::') return '::1';
  return bindHost;
}

export function backendUrl(bindHost: string, port: number): string {
  const host = loopbackFor(bindHost);
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

export interface WarmRequest {
  envId: string;
  revision: DeployerRevision;
  /** argv on the host, and the directory it runs in. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

export async function isHealthy(host: Host, rec: ReplicaRecord, path: string): Promise<boolean> {
  if (!rec.alive) return false;
  const conn = await host.connection();
  return (await tunnelProbe(conn, loopbackFor(host.settings.bindHost), rec.port, path, PROBE_TIMEOUT_MS)).ok;
}

async function logOf(host: Host, envId: string, revisionId: string, index: number): Promise<string> {
  return `${await host.runDir(envId, revisionId)}/replica-${index}.log`;
}

async function startReplica(host: Host, req: WarmRequest, index: number, port: number): Promise<ReplicaRecord> {
  const id = req.revision.revision_id;
  const runDir = await host.runDir(req.envId, id);
  const digest = argvDigest(req.argv);
  const out = await host.script(
    START_REPLICA,
    startReplicaArgs(req.cwd, runDir, index, port, req.argv),
    `starting replica ${index} of "${id}"`,
    { stdin: envScript(req.env), retryable: false },
  );
  const [pid, st] = out.trim().split(' ');
  return { revision_id: id, index, pid: Number(pid), start_time: st, port, digest, alive: true };
}

async function waitHealthy(
  host: Host,
  req: WarmRequest,
  started: ReplicaRecord[],
  signal: AbortSignal,
  progress?: ReplicaProgress,
): Promise<void> {
  const { revision, envId } = req;
  const { http_path: path, timeout_seconds: seconds } = revision.health;
  const pending = new Set(started.map((r) => r.index));
  const conn = await host.connection();
  const last = new Map<number, string>();
  await pollUntil(
    async () => {
      for (const rec of started.filter((r) => pending.has(r.index))) {
        const result = await tunnelProbe(conn, loopbackFor(host.settings.bindHost), rec.port, path, PROBE_TIMEOUT_MS);
        if (result.ok) {
          pending.delete(rec.index);
          progress?.healthy();
        } else {
          last.set(rec.index, result.detail);
          progress?.pending(`last probe on ${host.label}: ${result.detail}`);
        }
      }
      if (pending.size === 0) return done(undefined);
      const alive = new Map((await host.readReplicas(envId, revision.revision_id)).map((r) => [r.index, r]));
      for (const index of pending) {
        const rec = started.find((r) => r.index === index) as ReplicaRecord;
        const now = alive.get(index);
        if (!now || now.pid !== rec.pid || !now.alive) {
          const log = await logOf(host, envId, revision.revision_id, index);
          throw new ProviderError(
            `revision "${revision.revision_id}" replica ${index} (pid ${rec.pid}) on ${host.label} exited before it became healthy; ` +
              `last lines of ${log}:\n${await host.tail(log)}`,
          );
        }
      }
      return notYet();
    },
    {
      what: `revision "${revision.revision_id}" on ${host.label} to answer ${path}`,
      timeoutMs: seconds * 1000,
      intervalMs: HEALTH_POLL_MS,
      signal,
      during: `warming "${revision.revision_id}"`,
      onTimeout: async () => {
        const index = [...pending][0];
        const log = await logOf(host, envId, revision.revision_id, index);
        return new ProviderError(
          `revision "${revision.revision_id}" replica ${index} on ${host.label} did not answer ${path} with 2xx within ${seconds}s ` +
            `(${last.get(index) ?? 'no answer'}); last lines of ${log}:\n${await host.tail(log)}`,
          { retryable: true },
        );
      },
    },
  );
}

/**
 * Makes `resources.replicas` healthy replicas of the revision run on `host`: keeps healthy
 * ones with the same argv, replaces the rest. On failure or abort, stops what it started.
 */
export async function warmOnHost(
  host: Host,
  req: WarmRequest,
  signal: AbortSignal,
  progress?: ReplicaProgress,
): Promise<ReplicaRecord[]> {
  const { revision, envId } = req;
  const id = revision.revision_id;
  const wanted = Math.max(1, revision.resources.replicas);
  const digest = argvDigest(req.argv);
  const existing = await host.readReplicas(envId, id);
  const kept: ReplicaRecord[] = [];
  const replace: number[] = [];
  const stale: ReplicaRecord[] = existing.filter((r) => r.index >= wanted);
  for (let index = 0; index < wanted; index++) {
    const rec = existing.find((r) => r.index === index);
    if (rec && rec.digest === digest && (await isHealthy(host, rec, revision.health.http_path))) {
      kept.push(rec);
      progress?.healthy();
      continue;
    }
    if (rec) stale.push(rec);
    replace.push(index);
  }
  if (stale.length > 0) {
    await host.stopProcesses(stale);
    const runDir = await host.runDir(envId, id);
    await host.remove(...stale.filter((r) => r.index >= wanted).map((r) => `${runDir}/replica-${r.index}.rec`));
  }
  if (replace.length === 0) return kept;

  const ports = await host.freePorts(replace.length, host.settings.bindHost);
  const started: ReplicaRecord[] = [];
  try {
    for (const [i, index] of replace.entries()) {
      if (signal.aborted) throw new AbortedError(`warming "${id}" was aborted`);
      started.push(await startReplica(host, req, index, ports[i]));
    }
    await waitHealthy(host, req, started, signal, progress);
  } catch (e) {
    await stopAndForget(host, envId, id, started).catch(() => undefined);
    if (BpError.is(e)) throw e;
    throw new ProviderError(`cannot start revision "${id}" on ${host.label}: ${(e as Error).message}`, {
      cause: e,
      retryable: true,
    });
  }
  return [...kept, ...started].sort((a, b) => a.index - b.index);
}

async function stopAndForget(host: Host, envId: string, revisionId: string, records: ReplicaRecord[]): Promise<void> {
  if (records.length === 0) return;
  await host.stopProcesses(records, 0);
  const runDir = await host.runDir(envId, revisionId);
  await host.remove(...records.map((r) => `${runDir}/replica-${r.index}.rec`));
}

/**
 * Stops every replica of the revision on record on `host`, forgets them, and removes
 * `alsoRemove` (archive passes the revision's directories): one round trip.
 */
export async function stopOnHost(
  host: Host,
  envId: string,
  revisionId: string,
  alsoRemove: string[] = [],
): Promise<void> {
  await host.script(
    STOP_REVISION,
    [String(host.settings.killGraceMs), await host.runDir(envId, revisionId), ...alsoRemove],
    `stopping "${revisionId}"`,
    { timeoutMs: host.settings.killGraceMs + host.settings.commandTimeoutMs },
  );
}
