/**
 * The aws-ec2 deployer: each revision is `replicas` EC2 instances in one ELBv2 target group;
 * each deployment is one listener rule whose forward action weighs its target groups.
 * Everything is found again by tags and deterministic names, never by what bp remembers.
 */
import type {
  Deployer, DeployerEnvironment, DeployerRevision, Logger, Observation, ObservedRevision,
  SplitResult, StageResult, VerbOptions, WarmResult,
} from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { done, pending, pollUntil, waitUntil } from '../kit/poll.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb } from '../kit/verb.js';
import { Balancer, type Weighted } from './balancer.js';
import type { AwsEc2Config } from './config.js';
import { findInstances, launchInstances, terminateInstances, type LiveInstance } from './instances.js';
import { checkArtifact, instanceTypeFor, revisionTags, targetGroupName, userData } from './launch.js';
import { createClients, type AwsClients } from './sdk.js';
import { toSplit } from '../kit/weights.js';
import { toElbWeights } from './weights.js';
import { keyedMutex } from '../kit/mutex.js';

const MAX_TARGET_GROUPS_PER_RULE = 5;

export class AwsEc2Deployer implements Deployer {
  private clientsPromise: Promise<AwsClients> | null = null;
  /** Serializes read-modify-write of one router, rule or revision (bp runs verbs in parallel). */
  private readonly exclusive = keyedMutex();

  constructor(private readonly config: AwsEc2Config, private readonly logger: Logger) {}

  private clients(): Promise<AwsClients> {
    if (!this.clientsPromise) {
      this.clientsPromise = createClients(this.config);
      this.clientsPromise.catch(() => (this.clientsPromise = null));
    }
    return this.clientsPromise;
  }

  private async balancer(): Promise<{ c: AwsClients; lb: Balancer }> {
    const c = await this.clients();
    return { c, lb: new Balancer(c, this.config) };
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    // Nothing to upload: the instances pull the image or binary themselves at boot.
    checkArtifact(revision);
    const instanceType = instanceTypeFor(revision.resources, this.config.instance_type);
    return { outputs: { instance_type: instanceType, target_group: targetGroupName(env.environment_id, revisionId) } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const { signal } = opts;
    checkArtifact(revision);
    const instanceType = instanceTypeFor(revision.resources, this.config.instance_type);
    const { c, lb } = await this.balancer();
    const envId = env.environment_id;
    const deploymentId = deployment.deployment_id;
    const tgArn = await lb.ensureTargetGroup(signal, targetGroupName(envId, revisionId), revision.health.http_path,
      revision.drain_seconds, revisionTags(envId, deploymentId, revisionId));
    const live = await findInstances(c, signal, envId, revisionId);
    const wanted = Math.max(1, revision.resources.replicas);
    if (live.length < wanted) {
      const launched = await launchInstances(c, signal, {
        environmentId: envId, deploymentId, revisionId, imageId: this.config.ami_id, instanceType,
        subnetIds: this.config.subnet_ids, securityGroupIds: this.config.security_group_ids,
        instanceProfile: this.config.instance_profile, keyName: this.config.key_name,
        userData: userData(revision, this.config.app_port),
      }, live.map((i) => i.id), wanted - live.length);
      this.logger.info(`aws-ec2: launched ${launched.length} ${instanceType} instance(s) for ${revisionId}`, { instances: launched });
    }
    // Health checks only run for target groups the balancer routes to, so attach (at weight 0) first.
    await this.exclusive(`rule:${deploymentId}`, () => this.attach(lb, signal, envId, deploymentId, tgArn));
    const ids = await this.waitHealthy(c, lb, signal, envId, revision, tgArn);
    return {
      endpoint: await lb.endpoint(signal),
      outputs: { target_group_arn: tgArn, instance_ids: ids, instance_type: instanceType },
    };
  }

  /** Adds a target group to its deployment's rule at weight 0, creating the rule if needed. */
  private async attach(lb: Balancer, signal: AbortSignal, envId: string, deploymentId: string, tgArn: string): Promise<void> {
    const rule = (await lb.deploymentRules(signal, envId)).get(deploymentId);
    if (rule?.targets.some((t) => t.arn === tgArn)) return;
    const targets = [...(rule?.targets ?? []), { arn: tgArn, weight: 0 }];
    this.checkRuleSize(deploymentId, targets);
    if (rule) await lb.setRuleTargets(signal, rule, targets);
    else await lb.createRule(signal, envId, deploymentId, targets);
  }

  private checkRuleSize(deploymentId: string, targets: Weighted[]): void {
    if (targets.length > MAX_TARGET_GROUPS_PER_RULE) {
      throw new ProviderError(
        `deployment "${deploymentId}" would need ${targets.length} warm revisions in one listener rule; ` +
          `ELBv2 forwards to at most ${MAX_TARGET_GROUPS_PER_RULE} target groups: drain or archive a revision first`,
      );
    }
  }

  /**
   * Registers instances as they reach `running` and resolves once the balancer reports every
   * one healthy. Deadline: health.timeout_seconds plus boot_seconds (boot and image pull).
   */
  private async waitHealthy(
    c: AwsClients, lb: Balancer, signal: AbortSignal, envId: string, revision: DeployerRevision, tgArn: string,
  ): Promise<string[]> {
    const id = revision.revision_id;
    const wanted = Math.max(1, revision.resources.replicas);
    const seconds = revision.health.timeout_seconds + this.config.boot_seconds;
    let last: { live: LiveInstance[]; health: Map<string, { State?: string; Reason?: string } | undefined> } = { live: [], health: new Map() };
    return pollUntil(async () => {
      const live = await findInstances(c, signal, envId, id);
      const running = live.filter((i) => i.state === 'running');
      const health = new Map((await lb.health(signal, tgArn)).map((h) => [h.Target?.Id ?? '', h.TargetHealth]));
      const unregistered = running.filter((i) => !health.has(i.id) || health.get(i.id)?.State === 'draining');
      const stale = [...health.keys()].filter((tid) => !live.some((i) => i.id === tid));
      await lb.register(signal, tgArn, unregistered.map((i) => i.id));
      await lb.deregister(signal, tgArn, stale);
      last = { live, health };
      const healthy = running.filter((i) => health.get(i.id)?.State === 'healthy');
      return healthy.length >= wanted && healthy.length === live.length ? done(healthy.map((i) => i.id)) : pending();
    }, {
      what: `${wanted} healthy instance(s) of "${id}"`, timeoutMs: seconds * 1000, intervalMs: this.config.poll_interval_ms,
      signal, during: `warming "${id}"`,
      onTimeout: () => this.unhealthyError(id, wanted, last.live, last.health, seconds),
    });
  }

  private unhealthyError(
    id: string, wanted: number, live: LiveInstance[], health: Map<string, { State?: string; Reason?: string } | undefined>, seconds: number,
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

  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<Record<string, never>> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'draining');
    const { signal } = opts;
    const { lb } = await this.balancer();
    const tg = await lb.findTargetGroup(signal, targetGroupName(env.environment_id, revisionId));
    if (!tg?.TargetGroupArn) return {};
    const tgArn = tg.TargetGroupArn;
    // Connection draining: deregistered targets get drain_seconds to finish in-flight requests.
    await lb.setDrainSeconds(signal, tgArn, revision.drain_seconds);
    const registered = (await lb.health(signal, tgArn)).filter((h) => h.TargetHealth?.State !== 'draining');
    await lb.deregister(signal, tgArn, registered.map((h) => h.Target?.Id ?? '').filter(Boolean));
    await waitUntil(async () => (await lb.health(signal, tgArn)).length === 0, {
      what: `the targets of "${revisionId}" to finish draining`,
      timeoutMs: revision.drain_seconds * 1000 + Math.max(5000, 2 * this.config.poll_interval_ms),
      intervalMs: Math.min(this.config.poll_interval_ms, 1000), signal, during: `draining "${revisionId}"`,
    });
    await this.exclusive(`rule:${deployment.deployment_id}`, () => this.detach(lb, signal, env.environment_id, deployment.deployment_id, tgArn));
    return {};
  }

  /** Removes a target group from its deployment's rule; the rule goes with its last group. */
  private async detach(lb: Balancer, signal: AbortSignal, envId: string, deploymentId: string, tgArn: string): Promise<void> {
    const rule = (await lb.deploymentRules(signal, envId)).get(deploymentId);
    if (!rule || !rule.targets.some((t) => t.arn === tgArn)) return;
    await lb.setRuleTargets(signal, rule, rule.targets.filter((t) => t.arn !== tgArn));
  }

  async archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<Record<string, never>> {
    const { deployment } = beginRevisionVerb(env, revisionId, opts, 'archiving');
    const { signal } = opts;
    const { c, lb } = await this.balancer();
    const live = await findInstances(c, signal, env.environment_id, revisionId);
    if (live.length > 0) await terminateInstances(c, signal, live.map((i) => i.id));
    const tg = await lb.findTargetGroup(signal, targetGroupName(env.environment_id, revisionId));
    if (tg?.TargetGroupArn) {
      const tgArn = tg.TargetGroupArn;
      await this.exclusive(`rule:${deployment.deployment_id}`, () => this.detach(lb, signal, env.environment_id, deployment.deployment_id, tgArn));
      await lb.deleteTargetGroup(signal, tgArn);
    }
    return {};
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { entries } = beginSplitVerb(env, deploymentId, opts);
    const { signal } = opts;
    const { weights, enforced } = toElbWeights(entries);
    const { lb } = await this.balancer();
    await this.exclusive(`rule:${deploymentId}`, async () => {
      const wanted: Weighted[] = [];
      for (const [k, e] of entries.entries()) {
        const tg = await lb.findTargetGroup(signal, targetGroupName(env.environment_id, e.revision_id));
        if (tg?.TargetGroupArn) wanted.push({ arn: tg.TargetGroupArn, weight: weights[k] });
        else if (e.weight_bps > 0) {
          throw new ProviderError(
            `revision "${e.revision_id}" would get ${e.weight_bps} bps of "${deploymentId}" but has no target group; warm it first`,
            { retryable: true },
          );
        }
      }
      const rule = (await lb.deploymentRules(signal, env.environment_id)).get(deploymentId);
      // Warm revisions outside the split stay in the rule at weight 0 so their health checks go on.
      const kept = (rule?.targets ?? []).filter((t) => !wanted.some((w) => w.arn === t.arn)).map((t) => ({ arn: t.arn, weight: 0 }));
      const targets = [...wanted, ...kept];
      this.checkRuleSize(deploymentId, targets);
      if (!rule) await lb.createRule(signal, env.environment_id, deploymentId, targets);
      else if (!sameTargets(rule.targets, targets)) await lb.setRuleTargets(signal, rule, targets);
    });
    if (!enforced.every((e, i) => e.weight_bps === entries[i].weight_bps)) {
      this.logger.warn(`aws-ec2: the split of ${deploymentId} is rounded to what ELBv2 weights (0-999) can express`, { enforced });
    }
    return { applied_deployment_id: deploymentId, applied_entries: enforced };
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    const { signal } = opts;
    beginVerb(opts, 'observing');
    const { c, lb } = await this.balancer();
    const envId = env.environment_id;
    const byRevision = new Map<string, LiveInstance[]>();
    for (const i of await findInstances(c, signal, envId)) byRevision.set(i.revisionId, [...(byRevision.get(i.revisionId) ?? []), i]);
    const replicas = new Map(env.deployments.flatMap((d) => d.revisions.map((r) => [r.revision_id, Math.max(1, r.resources.replicas)] as const)));
    const ids = [...new Set([...replicas.keys(), ...byRevision.keys()])];
    const observation: Observation = { revisions: {}, splits: {} };
    for (const id of ids) {
      const live = byRevision.get(id) ?? [];
      observation.revisions[id] = await this.observeRevision(lb, signal, envId, id, live, replicas.get(id) ?? live.length);
    }
    for (const [deploymentId, rule] of await lb.deploymentRules(signal, envId)) {
      const names = await lb.revisionsOf(signal, rule.targets.map((t) => t.arn));
      observation.splits[deploymentId] = toSplit(rule.targets.map((t) => names.get(t.arn) || t.arn), rule.targets.map((t) => t.weight));
    }
    return observation;
  }

  private async observeRevision(
    lb: Balancer, signal: AbortSignal, envId: string, id: string, live: LiveInstance[], wanted: number,
  ): Promise<ObservedRevision> {
    if (live.length === 0) return { present: false, healthy: false };
    const tg = await lb.findTargetGroup(signal, targetGroupName(envId, id));
    if (!tg?.TargetGroupArn) return { present: true, healthy: false };
    const health = new Map((await lb.health(signal, tg.TargetGroupArn)).map((h) => [h.Target?.Id ?? '', h.TargetHealth?.State]));
    const healthy = live.filter((i) => i.state === 'running' && health.get(i.id) === 'healthy').length;
    return { present: true, healthy: healthy >= wanted && healthy === live.length };
  }

  async close(): Promise<void> {
    const c = await this.clientsPromise?.catch(() => null);
    c?.ec2.destroy();
    c?.elb.destroy();
    this.clientsPromise = null;
  }
}

function sameTargets(a: Weighted[], b: Weighted[]): boolean {
  const key = (x: Weighted[]) => JSON.stringify([...x].sort((p, q) => p.arn.localeCompare(q.arn)));
  return key(a) === key(b);
}
