/**
 * What the warm and drain polls of aws-ec2 make of one read of the revision's instances and
 * its target group's health: progress for the operator (`1/2 instances healthy in the target
 * group`, last: the reason ELBv2 gives for one that is not) and the error when time is up.
 */
import { ProviderError } from '../kit/api.js';
import type { LiveInstance } from './instances.js';

/** A target's health as DescribeTargetHealth reports it, by instance id. */
export type TargetHealthById = Map<string, { State?: string; Reason?: string } | undefined>;

/** Instances running and healthy in the target group, and what holds back the first one that is not. */
export function warmProgress(
  live: LiveInstance[],
  health: TargetHealthById,
): { healthy: LiveInstance[]; detail: string | undefined } {
  const healthy = live.filter((i) => i.state === 'running' && health.get(i.id)?.State === 'healthy');
  const other = live.find((i) => !healthy.includes(i));
  if (!other) return { healthy, detail: live.length === 0 ? 'no instance launched yet' : undefined };
  const h = health.get(other.id);
  const why = other.state !== 'running' ? other.state : h ? (h.Reason ?? h.State) : 'not registered yet';
  return { healthy, detail: `${other.id} ${why}` };
}

/** `2 targets draining` from a DescribeTargetHealth read of a target group being drained. */
export function drainDetail(targets: number): string {
  return `${targets} target${targets === 1 ? '' : 's'} draining`;
}

export function unhealthyError(
  id: string,
  wanted: number,
  live: LiveInstance[],
  health: TargetHealthById,
  seconds: number,
): ProviderError {
  const states = live.map((i) => {
    const h = health.get(i.id);
    return `${i.id} ${i.state}${h ? `/${h.State}${h.Reason ? ` (${h.Reason})` : ''}` : '/unregistered'}`;
  });
  // Failing health checks need a person (bad image, wrong port or path); a slow boot may just need time.
  const failing = [...health.values()].some((h) => h?.State === 'unhealthy');
  return new ProviderError(
    `revision "${id}": the load balancer does not report ${wanted} healthy instance(s) after ${seconds}s: ` +
      `${states.join(', ') || 'no instance running'}${failing ? '; check the artifact, app_port and health.http_path' : ''}`,
    { retryable: !failing },
  );
}
