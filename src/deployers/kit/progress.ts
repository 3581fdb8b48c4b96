/**
 * Live progress for a verb's waits, sent to the verb's `progress` callback (when bp passed
 * one): over several replicas, how many are healthy of how many are wanted and what the last
 * failed check saw (`replicaProgress`); for a bounded wait such as a drain, what it waits for
 * and the time left (`timeLeftProgress`, `waitOutDrain`).
 */
import type { DeployerRevision, VerbOptions, VerbProgress } from '../../model/deployer.js';
import type { Clock } from './abort.js';
import { type PollProgress, waitUntil } from './poll.js';

type Report = ((p: VerbProgress) => void) | undefined;

/** Sends one report; progress is advisory, so a view that throws never fails the verb. */
function send(report: Report, p: VerbProgress): void {
  if (!report) return;
  try {
    report(p);
  } catch {
    // Advisory: see above.
  }
}

export interface ReplicaProgress {
  /** One more replica passed its check. */
  healthy(): void;
  /** A check did not pass yet; `detail` is what it saw (ECONNREFUSED, HTTP 503...). */
  pending(detail?: string): void;
  /** Sets the healthy count outright (a provider that reports totals, e.g. availableReplicas). */
  set(healthy: number, detail?: string): void;
}

export function replicaProgress(
  report: Report,
  o: { waitingFor: string; wanted: number; healthy?: number; unit?: string },
): ReplicaProgress {
  let healthy = o.healthy ?? 0;
  let last: string | undefined;
  const unit = o.unit ?? 'replicas healthy';
  const update = () =>
    send(report, { waiting_for: o.waitingFor, status: `${healthy}/${o.wanted} ${unit}`, ...(last ? { last } : {}) });
  return {
    healthy() {
      healthy = Math.min(o.wanted, healthy + 1);
      update();
    },
    pending(detail) {
      if (detail) last = detail;
      update();
    },
    set(n, detail) {
      healthy = n;
      if (detail) last = detail;
      update();
    },
  };
}

/** `25s left`: whole seconds, rounded up so a wait never shows 0s while it still runs. */
export function secondsLeft(ms: number): string {
  return `${Math.ceil(Math.max(0, ms) / 1000)}s left`;
}

/**
 * The `onProgress` of a bounded wait (a drain): sends what it waits for, what the last check
 * saw and the time left, e.g. `requests in flight to "web-v1" to finish: 2 in flight, 25s left`.
 * Undefined when bp passed no `progress`.
 */
export function timeLeftProgress(report: Report): ((p: PollProgress) => void) | undefined {
  if (!report) return undefined;
  return (p) =>
    send(report, {
      waiting_for: p.what,
      status: [p.detail, secondsLeft(p.remainingMs)].filter(Boolean).join(', '),
    });
}

/** How often a drain countdown reports the time left. */
export const COUNTDOWN_TICK_MS = 1000;

/**
 * Waits out a revision's drain_seconds (the grace a provider gives in-flight work once the
 * revision stops getting new requests), reporting what it waits for and the time left every
 * second. Aborted at once by the verb's signal.
 */
export async function waitOutDrain(
  revision: DeployerRevision,
  opts: VerbOptions,
  o: { what?: string; clock?: Clock; tickMs?: number } = {},
): Promise<void> {
  await waitUntil(() => false, {
    what: o.what ?? `requests in flight to "${revision.revision_id}" to finish`,
    timeoutMs: revision.drain_seconds * 1000,
    intervalMs: o.tickMs ?? COUNTDOWN_TICK_MS,
    signal: opts.signal,
    during: `draining "${revision.revision_id}"`,
    onProgress: timeLeftProgress(opts.progress),
    clock: o.clock,
  });
}
