/**
 * Live progress for waits over several replicas: how many are healthy of how many are wanted,
 * and what the last failed check saw. Deployers call `healthy` and `pending` from their poll
 * loops; every call sends the whole picture to the verb's `progress` callback (when bp passed one).
 */
import type { VerbProgress } from '../../model/deployer.js';

export interface ReplicaProgress {
  /** One more replica passed its check. */
  healthy(): void;
  /** A check did not pass yet; `detail` is what it saw (ECONNREFUSED, HTTP 503...). */
  pending(detail?: string): void;
  /** Sets the healthy count outright (a provider that reports totals, e.g. availableReplicas). */
  set(healthy: number, detail?: string): void;
}

export function replicaProgress(
  report: ((p: VerbProgress) => void) | undefined,
  o: { waitingFor: string; wanted: number; healthy?: number; unit?: string },
): ReplicaProgress {
  let healthy = o.healthy ?? 0;
  let last: string | undefined;
  const unit = o.unit ?? 'replicas healthy';
  const send = () => {
    if (!report) return;
    try {
      report({ waiting_for: o.waitingFor, status: `${healthy}/${o.wanted} ${unit}`, ...(last ? { last } : {}) });
    } catch {
      // Progress is advisory: a view that throws never fails the verb.
    }
  };
  return {
    healthy() {
      healthy = Math.min(o.wanted, healthy + 1);
      send();
    },
    pending(detail) {
      if (detail) last = detail;
      send();
    },
    set(n, detail) {
      healthy = n;
      if (detail) last = detail;
      send();
    },
  };
}
