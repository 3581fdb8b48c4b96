/**
 * The warm of a VM revision: poll the provider's load-balancer view until `replicas` VMs pass
 * its health check, within health.timeout_seconds plus the deployer's boot grace (boot and image
 * pull), reporting `k/n` as it goes. Deployers supply only the read and the failure advice.
 */
import type { DeployerRevision, VerbOptions } from '../../model/deployer.js';
import { type PollCheck, pollUntil } from './poll.js';
import { replicaProgress, type ReplicaProgress } from './progress.js';

export interface VmHealthWait<T> {
  revision: DeployerRevision;
  replicas: number;
  /**
   * The deployer config's timing (the names VM deployers' configs use): `boot_grace_seconds` is
   * added to health.timeout_seconds for boot and image pull; reads are `poll_interval_ms` apart.
   */
  timing: { boot_grace_seconds: number; poll_interval_ms: number };
  /** What the VMs must pass, for progress: `the health probe of lb-x`. */
  check: string;
  /** The progress unit: `VMs HEALTHY in the backend service`. */
  unit: string;
  /** One read: reports progress, and says done (with the value to return) or what it saw. */
  poll: (progress: ReplicaProgress, limitSeconds: number) => Promise<PollCheck<T>>;
  /** The error once the deadline passed, from the last read's detail. */
  timedOut: (detail: string | undefined, limitSeconds: number) => Error;
}

export function waitForHealthyVms<T>(w: VmHealthWait<T>, opts: VerbOptions): Promise<T> {
  const id = w.revision.revision_id;
  const limitS = w.revision.health.timeout_seconds + w.timing.boot_grace_seconds;
  const what = `${w.replicas} VMs of "${id}" to pass ${w.check}`;
  const progress = replicaProgress(opts.progress, { waitingFor: what, wanted: w.replicas, unit: w.unit });
  return pollUntil(() => w.poll(progress, limitS), {
    what,
    timeoutMs: limitS * 1000,
    intervalMs: w.timing.poll_interval_ms,
    signal: opts.signal,
    during: `warming "${id}"`,
    onTimeout: (last) => w.timedOut(last.detail, limitS),
  });
}
