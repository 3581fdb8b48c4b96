/**
 * Waiting for a Deployment's rollout the way `kubectl rollout status` does: the controller has
 * seen the latest generation and every wanted replica is updated and available. A rollout
 * that cannot succeed (an image that cannot be pulled, a crashing container, the progress
 * deadline passed) fails at once with the pods' own reasons, not at the timeout.
 */
import type { VerbProgress } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { done, pending, pollUntil } from '../kit/poll.js';
import { replicaProgress } from '../kit/progress.js';
import type { KubeClient, KubeObject } from './client.js';
import { toSelectorString } from './names.js';

/** Waiting reasons that do not fix themselves: a person must change the revision or the cluster. */
const FATAL_REASONS = new Set([
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export interface RolloutTarget {
  name: string;
  revisionId: string;
  /** Absent: whatever spec.replicas says (an HPA decides it). */
  replicas?: number;
  timeoutMs: number;
  pollMs: number;
  signal: AbortSignal;
  /** The verb's progress callback: available replicas of wanted, and why pods are not ready yet. */
  progress?: (p: VerbProgress) => void;
}

type Status = {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
};

/** Is the rollout of this Deployment complete at `want` replicas? */
export function rolloutComplete(d: KubeObject, want: number): boolean {
  const s = (d.status ?? {}) as Status;
  const generation = d.metadata.generation ?? 0;
  return (
    (s.observedGeneration ?? 0) >= generation &&
    Number((d.spec as { replicas?: number }).replicas ?? 1) === want &&
    (s.updatedReplicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want
  );
}

export async function waitForRollout(kube: KubeClient, t: RolloutTarget): Promise<KubeObject> {
  let waitingPods: string[] = [];
  return pollUntil(
    async () => {
      const d = await kube.read('apps/v1', 'Deployment', t.name);
      if (!d)
        throw new ProviderError(
          `revision "${t.revisionId}": Deployment ${t.name} disappeared while bp waited for it (deleted from outside?)`,
          { retryable: true },
        );
      const want = t.replicas ?? Number((d.spec as { replicas?: number }).replicas ?? 1);
      const report = replicaProgress(t.progress, {
        waitingFor: `Deployment ${t.name} of "${t.revisionId}" to roll out`,
        wanted: want,
        unit: 'replicas available',
      });
      if (rolloutComplete(d, want)) {
        report.set(want);
        return done(d);
      }
      const s = (d.status ?? {}) as Status;
      const progress = `${s.availableReplicas ?? 0}/${want} replicas available`;
      const pods = await podProblems(kube, d);
      report.set(s.availableReplicas ?? 0, pods.other[0] ?? pods.fatal[0]);
      if (pods.fatal.length > 0) {
        throw new ProviderError(
          `revision "${t.revisionId}" cannot become ready in Deployment ${t.name} (${progress}): ${pods.fatal.join('; ')}`,
          { retryable: false },
        );
      }
      waitingPods = pods.other;
      const stalled = (s.conditions ?? []).find(
        (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
      );
      // Past the progress deadline with no hopeless pod: slow (image pulls, scheduling), maybe not stuck.
      if (stalled) throw notReady(t, progress, stalled.message, waitingPods);
      return pending(progress);
    },
    {
      what: `Deployment ${t.name} to roll out`,
      during: `warming "${t.revisionId}"`,
      timeoutMs: t.timeoutMs,
      intervalMs: t.pollMs,
      signal: t.signal,
      onTimeout: (p) => notReady(t, p.detail ?? 'no replica available', undefined, waitingPods),
    },
  );
}

function notReady(t: RolloutTarget, progress: string, why: string | undefined, pods: string[]): ProviderError {
  return new ProviderError(
    `revision "${t.revisionId}" was not ready within ${Math.round(t.timeoutMs / 1000)} s (${progress})` +
      (why ? `: ${why}` : '') +
      (pods.length ? `; pods: ${pods.join('; ')}` : ''),
    { retryable: true },
  );
}

/** Why the Deployment's pods are not ready, split into hopeless and still-in-progress. */
async function podProblems(kube: KubeClient, d: KubeObject): Promise<{ fatal: string[]; other: string[] }> {
  const matchLabels = (d.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
  const pods = await kube.list('v1', 'Pod', toSelectorString(matchLabels));
  const fatal: string[] = [];
  const other: string[] = [];
  for (const p of pods) {
    const statuses =
      (
        p.status as
          | { containerStatuses?: Array<{ name: string; state?: { waiting?: { reason?: string; message?: string } } }> }
          | undefined
      )?.containerStatuses ?? [];
    for (const c of statuses) {
      const w = c.state?.waiting;
      if (!w?.reason) continue;
      const line = `pod ${p.metadata.name} container ${c.name}: ${w.reason}${w.message ? ` (${w.message})` : ''}`;
      (FATAL_REASONS.has(w.reason) ? fatal : other).push(line);
    }
  }
  return { fatal, other };
}
