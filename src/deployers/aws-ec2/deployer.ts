/**
 * The aws-ec2 deployer: each revision is `replicas` EC2 instances in one ELBv2 target group;
 * each deployment is one listener rule whose forward action weighs its target groups.
 * Everything is found again by tags and deterministic names, never by what bp remembers.
 */
import type { Deployer, DeployerEnvironment, DeployerRevision, Logger, Observation } from '../kit/api.js';
import type { SplitResult, StageResult, VerbOptions, WarmResult } from '../kit/api.js';
import {
  beginRevisionVerb,
  beginSplitVerb,
  beginVerb,
  keyedMutex,
  ProviderError,
  RoutingNotReleasedError,
} from '../kit/api.js';
import { done, pending, pollUntil, waitUntil } from '../kit/poll.js';
import { Balancer } from './balancer.js';
import { sameTargets, type Weighted } from './rule-shape.js';
import type { AwsEc2Config } from './config.js';
import { observeEnvironment } from './observe.js';
import { findInstances, launchInstances, terminateInstances, type LaunchSpec, type LiveInstance } from './instances.js';
import {
  checkArtifact,
  instanceTypeFor,
  nextAttempt,
  revisionTags,
  TAG_LAUNCH,
  targetGroupName,
  userData,
} from './launch.js';
import { bootOptionsFrom, type BootOptions } from './boot-script.js';
import { checkRuleConditions, checkRuleSize, checkUserData } from './limits.js';
import { awsErrorCode, createClients, type AwsClients } from './sdk.js';
import { toElbWeights } from './weights.js';

/** A target group ARN names the group: `arn:...:targetgroup/<name>/<id>`. */
const isGroup = (arn: string, name: string) => arn.includes(`:targetgroup/${name}/`);

export class AwsEc2Deployer implements Deployer {
  private clientsPromise: Promise<AwsClients> | null = null;
  /** Serializes read-modify-write of one router, rule or revision (bp runs verbs in parallel). */
  private readonly exclusive = keyedMutex();

  constructor(
    private readonly config: AwsEc2Config,
    private readonly logger: Logger,
  ) {}

  private clients(): Promise<AwsClients> {
    if (!this.clientsPromise) {
      this.clientsPromise = createClients(this.config);
      this.clientsPromise.catch(() => (this.clientsPromise = null));
    }
    return this.clientsPromise;
  }

  private bootOptions(): BootOptions {
    return bootOptionsFrom(this.config);
  }

  private async balancer(): Promise<{ c: AwsClients; lb: Balancer }> {
    const c = await this.clients();
    return { c, lb: new Balancer(c, this.config) };
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    // Nothing to upload: the instances pull the image or binary themselves at boot.
    checkArtifact(revision);
    checkUserData(revision, userData(revision, this.bootOptions()));
    checkRuleConditions(this.config, deployment.deployment_id);
    const instanceType = instanceTypeFor(revision.resources, this.config.instance_type);
    return { outputs: { instance_type: instanceType, target_group: targetGroupName(env.environment_id, revisionId) } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const { signal } = opts;
    checkArtifact(revision);
    const instanceType = instanceTypeFor(revision.resources, this.config.instance_type);
    const script = userData(revision, this.bootOptions());
    const envId = env.environment_id;
    const deploymentId = deployment.deployment_id;
    // Limits first: nothing is created (let alone billed) for a warm the API would refuse later.
    checkUserData(revision, script);
    checkRuleConditions(this.config, deploymentId);
    const { c, lb } = await this.balancer();
    const tgName = targetGroupName(envId, revisionId);
    const rule = (await lb.deploymentRules(signal, envId)).get(deploymentId);
    if (rule && !rule.targets.some((t) => isGroup(t.arn, tgName))) checkRuleSize(deploymentId, rule.targets.length + 1);
    const tgArn = await lb.ensureTargetGroup(
      signal,
      tgName,
      revision.health.http_path,
      revision.drain_seconds,
      revisionTags(envId, deploymentId, revisionId),
    );
    const live = await findInstances(c, signal, envId, revisionId);
    const wanted = Math.max(1, revision.resources.replicas);
    if (live.length < wanted) {
      const launched = await this.launch(
        c,
        lb,
        signal,
        tgArn,
        live.map((i) => i.id),
        wanted,
        {
          environmentId: envId,
          deploymentId,
          revisionId,
          imageId: this.config.ami_id,
          instanceType,
          subnetIds: this.config.subnet_ids,
          securityGroupIds: this.config.security_group_ids,
          instanceProfile: this.config.instance_profile,
          keyName: this.config.key_name,
          userData: script,
          attempt: 0,
        },
      );
      this.logger.info(`aws-ec2: launched ${launched.length} ${instanceType} instance(s) for ${revisionId}`, {
        instances: launched,
      });
    }
    // Health checks only run for target groups the balancer routes to, so attach (at weight 0) first.
    await this.exclusive(`rule:${deploymentId}`, () => this.attach(lb, signal, envId, deploymentId, tgArn));
    const ids = await this.waitHealthy(c, lb, signal, envId, revision, tgArn);
    return {
      endpoint: await lb.endpoint(signal),
      outputs: { target_group_arn: tgArn, instance_ids: ids, instance_type: instanceType },
    };
  }

  /**
   * One launch attempt, recorded on the target group before RunInstances (TAG_LAUNCH) so that
   * a retry of it reuses its client tokens and a later attempt gets new ones. A token EC2
   * reports spent (IdempotentInstanceTerminated: that attempt's instances are gone) starts
   * the next attempt at once.
   */
  private async launch(
    c: AwsClients,
    lb: Balancer,
    signal: AbortSignal,
    tgArn: string,
    liveIds: string[],
    wanted: number,
    spec: LaunchSpec,
  ): Promise<string[]> {
    const { [TAG_LAUNCH]: recorded } = await lb.tags(signal, tgArn);
    let next = nextAttempt(recorded, liveIds, wanted);
    for (let tries = 0; ; tries++) {
      if (!next.retry) await lb.addTags(signal, tgArn, { [TAG_LAUNCH]: next.tag });
      try {
        const launched = await launchInstances(
          c,
          signal,
          { ...spec, attempt: next.attempt },
          liveIds,
          wanted - liveIds.length,
        );
        await lb.addTags(signal, tgArn, { [TAG_LAUNCH]: String(next.attempt) });
        return launched;
      } catch (e) {
        if (tries > 0 || awsErrorCode((e as { cause?: unknown }).cause) !== 'IdempotentInstanceTerminated') throw e;
        next = nextAttempt(String(next.attempt), liveIds, wanted);
      }
    }
  }

  /** Adds a target group to its deployment's rule at weight 0, creating the rule if needed. */
  private async attach(
    lb: Balancer,
    signal: AbortSignal,
    envId: string,
    deploymentId: string,
    tgArn: string,
  ): Promise<void> {
    const rule = (await lb.deploymentRules(signal, envId)).get(deploymentId);
    const attached = rule?.targets.some((t) => t.arn === tgArn) ?? false;
    if (rule && attached && !lb.conditionsChanged(rule, deploymentId)) return;
    const targets = attached ? rule!.targets : [...(rule?.targets ?? []), { arn: tgArn, weight: 0 }];
    checkRuleSize(deploymentId, targets.length);
    if (rule) await lb.setRuleTargets(signal, rule, targets, deploymentId);
    else await lb.createRule(signal, envId, deploymentId, targets);
  }

  /**
   * Registers instances as they reach `running` and resolves once the balancer reports every
   * one healthy. Deadline: health.timeout_seconds plus boot_seconds (boot and image pull).
   */
  private async waitHealthy(
    c: AwsClients,
    lb: Balancer,
    signal: AbortSignal,
    envId: string,
    revision: DeployerRevision,
    tgArn: string,
  ): Promise<string[]> {
    const id = revision.revision_id;
    const wanted = Math.max(1, revision.resources.replicas);
    const seconds = revision.health.timeout_seconds + this.config.boot_seconds;
    let last: { live: LiveInstance[]; health: Map<string, { State?: string; Reason?: string } | undefined> } = {
      live: [],
      health: new Map(),
    };
    return pollUntil(
      async () => {
        const live = await findInstances(c, signal, envId, id);
        const running = live.filter((i) => i.state === 'running');
        const health = new Map((await lb.health(signal, tgArn)).map((h) => [h.Target?.Id ?? '', h.TargetHealth]));
        const unregistered = running.filter((i) => !health.has(i.id) || health.get(i.id)?.State === 'draining');
        const stale = [...health.keys()].filter((tid) => !live.some((i) => i.id === tid));
        await this.registerWhenSeen(
          lb,
          signal,
          tgArn,
          unregistered.map((i) => i.id),
        );
        await lb.deregister(signal, tgArn, stale);
        last = { live, health };
        const healthy = running.filter((i) => health.get(i.id)?.State === 'healthy');
        return healthy.length >= wanted && healthy.length === live.length ? done(healthy.map((i) => i.id)) : pending();
      },
      {
        what: `${wanted} healthy instance(s) of "${id}"`,
        timeoutMs: seconds * 1000,
        intervalMs: this.config.poll_interval_ms,
        signal,
        during: `warming "${id}"`,
        onTimeout: () => this.unhealthyError(id, wanted, last.live, last.health, seconds),
      },
    );
  }

  /**
   * ELBv2 learns of just-started instances a little after EC2 reports them running and
   * refuses them meanwhile (InvalidTarget); the next poll registers them.
   */
  private async registerWhenSeen(lb: Balancer, signal: AbortSignal, tgArn: string, ids: string[]): Promise<void> {
    try {
      await lb.register(signal, tgArn, ids);
    } catch (e) {
      if (awsErrorCode((e as { cause?: unknown }).cause) !== 'InvalidTarget') throw e;
      this.logger.debug('aws-ec2: the load balancer does not see the new instances yet; registering on the next poll', {
        instances: ids,
      });
    }
  }

  private unhealthyError(
    id: string,
    wanted: number,
    live: LiveInstance[],
    health: Map<string, { State?: string; Reason?: string } | undefined>,
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

  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
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
      intervalMs: Math.min(this.config.poll_interval_ms, 1000),
      signal,
      during: `draining "${revisionId}"`,
    });
    await this.exclusive(`rule:${deployment.deployment_id}`, () =>
      this.detach(
        lb,
        signal,
        env.environment_id,
        { deploymentId: deployment.deployment_id, revisionId, tgArn },
        'keep',
      ),
    );
    return {};
  }

  /**
   * Removes a target group from its deployment's rule. Only releaseRouting deletes the rule
   * (docs/design.md#traffic-rules). When the group is the rule's last, a drain leaves it there
   * (its targets are deregistered: the rule routes to nothing); an archive refuses if the group
   * carries traffic, and otherwise (a group warm attached at weight 0, no split applied yet)
   * parks the rule on a fixed 503 so the group can be deleted.
   */
  private async detach(
    lb: Balancer,
    signal: AbortSignal,
    envId: string,
    revision: { deploymentId: string; revisionId: string; tgArn: string },
    lastGroup: 'keep' | 'refuse',
  ): Promise<void> {
    const { deploymentId, revisionId, tgArn } = revision;
    const rule = (await lb.deploymentRules(signal, envId)).get(deploymentId);
    if (!rule || !rule.targets.some((t) => t.arn === tgArn)) return;
    const left = rule.targets.filter((t) => t.arn !== tgArn);
    if (left.length > 0) return lb.setRuleTargets(signal, rule, left);
    if (lastGroup === 'keep') return;
    if (rule.targets.some((t) => t.weight > 0)) {
      throw new RoutingNotReleasedError(deploymentId, revisionId, `listener rule ${rule.arn}`);
    }
    await lb.parkRule(signal, rule);
  }

  async archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment } = beginRevisionVerb(env, revisionId, opts, 'archiving');
    const { signal } = opts;
    const { c, lb } = await this.balancer();
    const tg = await lb.findTargetGroup(signal, targetGroupName(env.environment_id, revisionId));
    const tgArn = tg?.TargetGroupArn;
    // Out of the rule first (a refusal, when it is the rule's last group, changes nothing), and
    // no request is routed to instances being terminated.
    if (tgArn) {
      await this.exclusive(`rule:${deployment.deployment_id}`, () =>
        this.detach(
          lb,
          signal,
          env.environment_id,
          { deploymentId: deployment.deployment_id, revisionId, tgArn },
          'refuse',
        ),
      );
    }
    const live = await findInstances(c, signal, env.environment_id, revisionId);
    if (live.length > 0)
      await terminateInstances(
        c,
        signal,
        live.map((i) => i.id),
      );
    if (tgArn) await lb.deleteTargetGroup(signal, tgArn);
    return {};
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { entries } = beginSplitVerb(env, deploymentId, opts);
    const { signal } = opts;
    checkRuleConditions(this.config, deploymentId);
    checkRuleSize(deploymentId, entries.length);
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
      const kept = (rule?.targets ?? [])
        .filter((t) => !wanted.some((w) => w.arn === t.arn))
        .map((t) => ({ arn: t.arn, weight: 0 }));
      const targets = [...wanted, ...kept];
      checkRuleSize(deploymentId, targets.length);
      if (!rule) await lb.createRule(signal, env.environment_id, deploymentId, targets);
      else if (!sameTargets(rule.targets, targets) || lb.conditionsChanged(rule, deploymentId)) {
        await lb.setRuleTargets(signal, rule, targets, deploymentId);
      }
    });
    if (!enforced.every((e, i) => e.weight_bps === entries[i].weight_bps)) {
      this.logger.warn(`aws-ec2: the split of ${deploymentId} is rounded to what ELBv2 weights (0-999) can express`, {
        enforced,
      });
    }
    return { applied_deployment_id: deploymentId, applied_entries: enforced };
  }

  /** Deletes the deployment's listener rule: the only verb that does (docs/design.md#traffic-rules). */
  async releaseRouting(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<void> {
    beginVerb(opts, `releasing the routing of "${deploymentId}"`);
    const { lb } = await this.balancer();
    await this.exclusive(`rule:${deploymentId}`, async () => {
      const rule = (await lb.deploymentRules(opts.signal, env.environment_id)).get(deploymentId);
      if (rule) await lb.deleteRule(opts.signal, rule.arn);
    });
  }

  /** One environment's state in a bounded number of calls (see observe.ts). */
  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    const { c, lb } = await this.balancer();
    return observeEnvironment(c, lb, env, opts.signal);
  }

  async close(): Promise<void> {
    const c = await this.clientsPromise?.catch(() => null);
    c?.ec2.destroy();
    c?.elb.destroy();
    this.clientsPromise = null;
  }
}
