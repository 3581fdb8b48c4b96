/**
 * The aws-ec2 deployer: each revision is `replicas` EC2 instances in one ELBv2 target group;
 * each deployment is one listener rule whose forward action weighs its target groups.
 * Everything is found again by tags and deterministic names, never by what bp remembers.
 */
import type { Deployer, DeployerEnvironment, DeployerRevision, Observation } from '../kit/api.js';
import type { SplitResult, StageResult, VerbOptions, WarmResult } from '../kit/api.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb, ProviderError } from '../kit/api.js';
import { SdkDeployer } from '../kit/sdk.js';
import { done, pending, pollUntil, waitUntil } from '../kit/poll.js';
import { replicaProgress, timeLeftProgress } from '../kit/progress.js';
import { drainDetail, type TargetHealthById, unhealthyError, warmProgress } from './target-health.js';
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
import { checkRuleConditions, checkRuleSize, checkUserData } from './limits.js';
import { awsErrorCode, createClients, type AwsClients } from './sdk.js';
import { toElbWeights } from './weights.js';

/** A target group ARN names the group: `arn:...:targetgroup/<name>/<id>`. */
const isGroup = (arn: string, name: string) => arn.includes(`:targetgroup/${name}/`);

export class AwsEc2Deployer extends SdkDeployer<AwsEc2Config, AwsClients> implements Deployer {
  protected createClients(): Promise<AwsClients> {
    return createClients(this.config);
  }

  protected override releaseClients(c: AwsClients): void {
    c.ec2.destroy();
    c.elb.destroy();
  }

  private async balancer(): Promise<{ c: AwsClients; lb: Balancer }> {
    const c = await this.clients();
    return { c, lb: new Balancer(c, this.config) };
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    // Nothing to upload: the instances pull the image or binary themselves at boot.
    checkArtifact(revision);
    checkUserData(revision, userData(revision, this.config));
    checkRuleConditions(this.config, deployment.deployment_id);
    const instanceType = instanceTypeFor(revision.resources, this.config.instance_type);
    return { outputs: { instance_type: instanceType, target_group: targetGroupName(env.environment_id, revisionId) } };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const { signal } = opts;
    checkArtifact(revision);
    const instanceType = instanceTypeFor(revision.resources, this.config.instance_type);
    const script = userData(revision, this.config);
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
    await this.exclusive(`rule:${deploymentId}`, () => lb.attachGroup(signal, envId, deploymentId, tgArn));
    const ids = await this.waitHealthy(c, lb, opts, envId, revision, tgArn);
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

  /**
   * Registers instances as they reach `running` and resolves once the balancer reports every
   * one healthy. Deadline: health.timeout_seconds plus boot_seconds (boot and image pull).
   */
  private async waitHealthy(
    c: AwsClients,
    lb: Balancer,
    opts: VerbOptions,
    envId: string,
    revision: DeployerRevision,
    tgArn: string,
  ): Promise<string[]> {
    const { signal } = opts;
    const id = revision.revision_id;
    const wanted = Math.max(1, revision.resources.replicas);
    const seconds = revision.health.timeout_seconds + this.config.boot_seconds;
    let last: { live: LiveInstance[]; health: TargetHealthById } = { live: [], health: new Map() };
    const progress = replicaProgress(opts.progress, {
      waitingFor: `${wanted} instance(s) of "${id}" to pass the health checks of their target group`,
      wanted,
      unit: 'instances healthy in the target group',
    });
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
        const { healthy, detail } = warmProgress(live, health);
        progress.set(Math.min(healthy.length, wanted), detail);
        return healthy.length >= wanted && healthy.length === live.length ? done(healthy.map((i) => i.id)) : pending();
      },
      {
        what: `${wanted} healthy instance(s) of "${id}"`,
        timeoutMs: seconds * 1000,
        intervalMs: this.config.poll_interval_ms,
        signal,
        during: `warming "${id}"`,
        onTimeout: () => unhealthyError(id, wanted, last.live, last.health, seconds),
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
    await waitUntil(
      async () => {
        const targets = (await lb.health(signal, tgArn)).length;
        return targets === 0 ? done(true) : pending(drainDetail(targets));
      },
      {
        what: `the targets of "${revisionId}" to finish draining`,
        timeoutMs: revision.drain_seconds * 1000 + Math.max(5000, 2 * this.config.poll_interval_ms),
        intervalMs: Math.min(this.config.poll_interval_ms, 1000),
        signal,
        during: `draining "${revisionId}"`,
        onProgress: timeLeftProgress(opts.progress),
      },
    );
    await this.exclusive(`rule:${deployment.deployment_id}`, () =>
      lb.detachGroup(signal, env.environment_id, { deploymentId: deployment.deployment_id, revisionId, tgArn }, 'keep'),
    );
    return {};
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
        lb.detachGroup(
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

  /** Deletes the deployment's listener rule: its routing goes with its last revision. */
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
}
