/**
 * aws-ec2 `observe`: one environment's state in a bounded number of calls: paginated listings
 * of its instances, its rules and the target groups, then DescribeTargetHealth per revision
 * with instances (ELBv2 has no list form for target health), at most OBSERVE_CONCURRENCY at a
 * time. The call counts are checked at 1,000 revisions in test/deployers/aws-ec2-scale.test.ts.
 */
import type { DeployerEnvironment, Observation, ObservedRevision } from '../../model/deployer.js';
import { toSplit } from '../kit/weights.js';
import type { Balancer } from './balancer.js';
import { mapBounded, OBSERVE_CONCURRENCY } from '../kit/bounded.js';
import { findInstances, type LiveInstance } from './instances.js';
import { targetGroupName } from './launch.js';
import type { AwsClients } from './sdk.js';

export async function observeEnvironment(
  c: AwsClients,
  lb: Balancer,
  env: DeployerEnvironment,
  signal: AbortSignal,
): Promise<Observation> {
  const envId = env.environment_id;
  const [instances, rules] = await Promise.all([findInstances(c, signal, envId), lb.deploymentRules(signal, envId)]);
  const byRevision = new Map<string, LiveInstance[]>();
  for (const i of instances) byRevision.set(i.revisionId, [...(byRevision.get(i.revisionId) ?? []), i]);
  const replicas = new Map(
    env.deployments.flatMap((d) => d.revisions.map((r) => [r.revision_id, Math.max(1, r.resources.replicas)] as const)),
  );
  const ids = [...new Set([...replicas.keys(), ...byRevision.keys()])];
  const groups =
    byRevision.size > 0 || rules.size > 0 ? await lb.targetGroupsByName(signal) : new Map<string, string>();
  const revisionOfArn = new Map(ids.map((id) => [groups.get(targetGroupName(envId, id)) ?? '', id]));
  const observation: Observation = { revisions: {}, splits: {} };
  const seen = await mapBounded(ids, OBSERVE_CONCURRENCY, (id) => {
    const live = byRevision.get(id) ?? [];
    return observeRevision(lb, signal, groups.get(targetGroupName(envId, id)), live, replicas.get(id) ?? live.length);
  });
  ids.forEach((id, k) => (observation.revisions[id] = seen[k]));
  for (const [deploymentId, rule] of rules) {
    // A parked rule (no group left, answering 503 until bp releases it) routes nothing.
    if (rule.targets.length === 0) continue;
    const unknown = rule.targets.map((t) => t.arn).filter((arn) => !revisionOfArn.has(arn));
    const names = unknown.length > 0 ? await lb.revisionsOf(signal, unknown) : new Map<string, string>();
    observation.splits[deploymentId] = toSplit(
      rule.targets.map((t) => revisionOfArn.get(t.arn) || names.get(t.arn) || t.arn),
      rule.targets.map((t) => t.weight),
    );
  }
  return observation;
}

async function observeRevision(
  lb: Balancer,
  signal: AbortSignal,
  tgArn: string | undefined,
  live: LiveInstance[],
  wanted: number,
): Promise<ObservedRevision> {
  if (live.length === 0) return { present: false, healthy: false };
  if (!tgArn) return { present: true, healthy: false };
  const health = new Map((await lb.health(signal, tgArn)).map((h) => [h.Target?.Id ?? '', h.TargetHealth?.State]));
  const healthy = live.filter((i) => i.state === 'running' && health.get(i.id) === 'healthy').length;
  return { present: true, healthy: healthy >= wanted && healthy === live.length };
}
