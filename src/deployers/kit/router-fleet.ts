/**
 * What local-process, docker and ssh share about bp's weighted router: each deployment's
 * traffic enters through a router (one on this machine, or one per SSH host), and every
 * deployer updates it the same way. The decisions are pure functions of the router's status;
 * a `RouterSite` is how one deployer reaches one router (a local admin port, an SSH tunnel).
 */
import type { DeployerRevision, VerbOptions } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import type { RouterConfig, RouterEntry, RouterStatus } from '../../router/config.js';
import { type Clock } from './abort.js';
import { done, pending, waitUntil } from './poll.js';
import { timeLeftProgress } from './progress.js';

/** One running router of a deployment, as a deployer reaches it. */
export interface RouterSite {
  /** What the router enforces now; null when no router runs. */
  status(): Promise<RouterStatus | null>;
  /** Hot-reloads the running router's config. */
  reconfigure(config: RouterConfig): Promise<unknown>;
}

/**
 * The config that updates one revision in a router: new backends (null keeps them; [] empties
 * them) and whether it is draining. Null when nothing needs to change, or the router does not
 * route the revision. A backend the router marked down is re-pushed even when unchanged: a
 * replica restarted on its old port is otherwise not probed back into service.
 */
export function entryUpdate(
  status: RouterStatus,
  revisionId: string,
  backends: readonly string[] | null,
  draining: boolean,
): RouterConfig | null {
  const config = status.config;
  const entry = config.entries.find((e) => e.revision_id === revisionId);
  if (!entry) return null;
  const sameBackends = backends === null || JSON.stringify(backends) === JSON.stringify(entry.backends);
  const isDraining = config.draining.includes(revisionId);
  const markedDown = status.backends.some((b) => b.revision_id === revisionId && !b.healthy);
  if (sameBackends && isDraining === draining && !markedDown) return null;
  return {
    deployment_id: config.deployment_id,
    entries: config.entries.map((e) =>
      e.revision_id === revisionId && backends !== null ? { ...e, backends: [...backends] } : e,
    ),
    draining: draining
      ? [...new Set([...config.draining, revisionId])]
      : config.draining.filter((d) => d !== revisionId),
  };
}

/**
 * The config that enforces a new split: revisions still draining in `current` stay draining
 * unless they gain traffic (or leave the split).
 */
export function splitConfig(
  deploymentId: string,
  entries: readonly RouterEntry[],
  current: RouterConfig | null,
): RouterConfig {
  const gaining = new Set(entries.filter((e) => e.weight_bps > 0).map((e) => e.revision_id));
  const draining = (current?.draining ?? []).filter(
    (id) => !gaining.has(id) && entries.some((e) => e.revision_id === id),
  );
  return { deployment_id: deploymentId, entries: [...entries], draining };
}

/** Requests in flight to a revision's backends, as the router reports them. */
export function inFlight(status: RouterStatus, revisionId: string): number {
  return status.backends.filter((b) => b.revision_id === revisionId).reduce((n, b) => n + b.in_flight, 0);
}

/** The split a router enforces, as split entries. */
export function routedSplit(status: RouterStatus): SplitEntry[] {
  return status.config.entries.map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps }));
}

/** Applies `entryUpdate` to a running router; false when no router runs or it does not route the revision. */
export async function refreshEntry(
  site: RouterSite,
  revisionId: string,
  backends: readonly string[] | null,
  draining: boolean,
): Promise<boolean> {
  const status = await site.status();
  if (!status || !status.config.entries.some((e) => e.revision_id === revisionId)) return false;
  const next = entryUpdate(status, revisionId, backends, draining);
  if (next) await site.reconfigure(next);
  return true;
}

export const DRAIN_POLL_MS = 100;

/**
 * Waits until the router reports no request in flight to the revision, at most the revision's
 * drain_seconds (then the verb goes on: drain_seconds is the bound, not an error). Reports the
 * requests still in flight and the time left to `progress`; `where` names the router's host.
 */
export async function waitForInFlight(
  site: RouterSite,
  revision: DeployerRevision,
  signal: AbortSignal,
  opts: { intervalMs?: number; clock?: Clock; progress?: VerbOptions['progress']; where?: string } = {},
): Promise<void> {
  await waitUntil(
    async () => {
      const status = await site.status();
      const n = status ? inFlight(status, revision.revision_id) : 0;
      return n === 0 ? done(true) : pending(`${n} in flight`);
    },
    {
      what: `requests in flight to "${revision.revision_id}"${opts.where ? ` ${opts.where}` : ''} to finish`,
      timeoutMs: revision.drain_seconds * 1000,
      intervalMs: opts.intervalMs ?? DRAIN_POLL_MS,
      signal,
      during: `draining "${revision.revision_id}"`,
      onProgress: timeLeftProgress(opts.progress),
      clock: opts.clock,
    },
  );
}
