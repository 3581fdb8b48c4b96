/**
 * The ELBv2 side: one target group per revision, one listener rule per deployment whose
 * forward action weighs the deployment's target groups, and target health as the balancer
 * reports it.
 */
import type {
  Rule,
  RuleCondition,
  Tag,
  TargetGroup,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createHash } from 'node:crypto';
import { RoutingNotReleasedError } from '../kit/api.js';
import { aws, awsErrorCode, type AwsClients } from './sdk.js';
import type { AwsEc2Config } from './config.js';
import { TAG_DEPLOYMENT, TAG_ENVIRONMENT, TAG_REVISION } from './launch.js';
import { checkRuleSize, ruleConditions } from './limits.js';
import {
  forwardAction,
  forwardTargets,
  parkedAction,
  rulePriority,
  sameConditions,
  type Weighted,
} from './rule-shape.js';

export { PRIORITY_WINDOW, rulePriority, type Weighted } from './rule-shape.js';

export interface DeploymentRule {
  arn: string;
  targets: Weighted[];
  conditions: RuleCondition[];
}

/** How often a listing is read again when a rule vanished between its pages and its tags. */
const RULE_READ_ATTEMPTS = 3;

export class Balancer {
  constructor(
    private readonly c: AwsClients,
    private readonly config: AwsEc2Config,
  ) {}

  /** The target group of a revision, or null. Names are deterministic, so this is exact. */
  async findTargetGroup(signal: AbortSignal, name: string): Promise<TargetGroup | null> {
    try {
      const out = await this.c.elb.send(new this.c.elbSdk.DescribeTargetGroupsCommand({ Names: [name] }), {
        abortSignal: signal,
      });
      return out.TargetGroups?.[0] ?? null;
    } catch (e) {
      if (awsErrorCode(e) === 'TargetGroupNotFound') return null;
      return aws('elbv2:DescribeTargetGroups', signal, () => Promise.reject(e));
    }
  }

  /** CreateTargetGroup returns the existing group when called again with the same settings. */
  async ensureTargetGroup(
    signal: AbortSignal,
    name: string,
    healthPath: string,
    drainSeconds: number,
    tags: Array<{ Key: string; Value: string }>,
  ): Promise<string> {
    const out = await aws('elbv2:CreateTargetGroup', signal, () =>
      this.c.elb.send(
        new this.c.elbSdk.CreateTargetGroupCommand({
          Name: name,
          Protocol: 'HTTP',
          Port: this.config.app_port,
          VpcId: this.config.vpc_id,
          TargetType: 'instance',
          HealthCheckPath: healthPath,
          HealthCheckIntervalSeconds: 10,
          HealthyThresholdCount: 2,
          Matcher: { HttpCode: '200-399' },
          Tags: tags,
        }),
        { abortSignal: signal },
      ),
    );
    const arn = out.TargetGroups?.[0]?.TargetGroupArn ?? '';
    await this.setDrainSeconds(signal, arn, drainSeconds);
    return arn;
  }

  /** Connection draining: deregistered targets finish in-flight requests for this long. */
  async setDrainSeconds(signal: AbortSignal, arn: string, seconds: number): Promise<void> {
    await aws('elbv2:ModifyTargetGroupAttributes', signal, () =>
      this.c.elb.send(
        new this.c.elbSdk.ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [
            {
              Key: 'deregistration_delay.timeout_seconds',
              Value: String(Math.min(3600, Math.max(0, Math.round(seconds)))),
            },
          ],
        }),
        { abortSignal: signal },
      ),
    );
  }

  async register(signal: AbortSignal, arn: string, ids: string[]): Promise<void> {
    await this.changeTargets(signal, 'RegisterTargets', arn, ids);
  }

  async deregister(signal: AbortSignal, arn: string, ids: string[]): Promise<void> {
    await this.changeTargets(signal, 'DeregisterTargets', arn, ids);
  }

  /** Adds or removes instances of a target group; no instance is no call. */
  private async changeTargets(
    signal: AbortSignal,
    action: 'RegisterTargets' | 'DeregisterTargets',
    arn: string,
    ids: string[],
  ): Promise<void> {
    if (ids.length === 0) return;
    const input = { TargetGroupArn: arn, Targets: ids.map((Id) => ({ Id })) };
    const command =
      action === 'RegisterTargets'
        ? new this.c.elbSdk.RegisterTargetsCommand(input)
        : new this.c.elbSdk.DeregisterTargetsCommand(input);
    await aws(`elbv2:${action}`, signal, () => this.c.elb.send(command, { abortSignal: signal }));
  }

  async health(signal: AbortSignal, arn: string): Promise<TargetHealthDescription[]> {
    const out = await aws('elbv2:DescribeTargetHealth', signal, () =>
      this.c.elb.send(new this.c.elbSdk.DescribeTargetHealthCommand({ TargetGroupArn: arn }), { abortSignal: signal }),
    );
    return out.TargetHealthDescriptions ?? [];
  }

  /** Deleting a group that is already gone is success. */
  async deleteTargetGroup(signal: AbortSignal, arn: string): Promise<void> {
    try {
      await this.c.elb.send(new this.c.elbSdk.DeleteTargetGroupCommand({ TargetGroupArn: arn }), {
        abortSignal: signal,
      });
    } catch (e) {
      if (awsErrorCode(e) === 'TargetGroupNotFound') return;
      await aws('elbv2:DeleteTargetGroup', signal, () => Promise.reject(e));
    }
  }

  /**
   * bp's rules on the listener, by deployment id, for one environment. The listener is shared:
   * another environment may delete its rule between our DescribeRules and DescribeTags
   * (RuleNotFound), which only means the listing is stale, so it is read again.
   */
  async deploymentRules(signal: AbortSignal, environmentId: string): Promise<Map<string, DeploymentRule>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readDeploymentRules(signal, environmentId);
      } catch (e) {
        const code = awsErrorCode((e as { cause?: unknown }).cause ?? e);
        if (code !== 'RuleNotFound' || attempt >= RULE_READ_ATTEMPTS) throw e;
      }
    }
  }

  private async readDeploymentRules(signal: AbortSignal, environmentId: string): Promise<Map<string, DeploymentRule>> {
    const rules: Rule[] = [];
    let Marker: string | undefined;
    do {
      const page = await aws('elbv2:DescribeRules', signal, () =>
        this.c.elb.send(
          new this.c.elbSdk.DescribeRulesCommand({
            ListenerArn: this.config.listener_arn,
            Marker,
            PageSize: 400,
          }),
          { abortSignal: signal },
        ),
      );
      rules.push(...(page.Rules ?? []).filter((r: Rule) => !r.IsDefault));
      Marker = page.NextMarker;
    } while (Marker);
    const tags = await this.tagsOf(
      signal,
      rules.map((r) => r.RuleArn ?? ''),
    );
    const out = new Map<string, DeploymentRule>();
    for (const r of rules) {
      const t = tags.get(r.RuleArn ?? '') ?? {};
      if (t[TAG_ENVIRONMENT] !== environmentId || !t[TAG_DEPLOYMENT]) continue;
      out.set(t[TAG_DEPLOYMENT], { arn: r.RuleArn ?? '', targets: forwardTargets(r), conditions: r.Conditions ?? [] });
    }
    return out;
  }

  /** Every target group of the account and region, by name: one paginated listing instead of one call per revision. */
  async targetGroupsByName(signal: AbortSignal): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let Marker: string | undefined;
    do {
      const page = await aws('elbv2:DescribeTargetGroups', signal, () =>
        this.c.elb.send(
          new this.c.elbSdk.DescribeTargetGroupsCommand({
            Marker,
            PageSize: 400,
          }),
          { abortSignal: signal },
        ),
      );
      for (const g of page.TargetGroups ?? []) out.set(g.TargetGroupName ?? '', g.TargetGroupArn ?? '');
      Marker = page.NextMarker;
    } while (Marker);
    return out;
  }

  /** The tags of one target group or rule. */
  async tags(signal: AbortSignal, arn: string): Promise<Record<string, string>> {
    return (await this.tagsOf(signal, [arn])).get(arn) ?? {};
  }

  async addTags(signal: AbortSignal, arn: string, tags: Record<string, string>): Promise<void> {
    await aws('elbv2:AddTags', signal, () =>
      this.c.elb.send(
        new this.c.elbSdk.AddTagsCommand({
          ResourceArns: [arn],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
        { abortSignal: signal },
      ),
    );
  }

  /** Revision ids of target groups, from their tags. */
  async revisionsOf(signal: AbortSignal, arns: string[]): Promise<Map<string, string>> {
    const tags = await this.tagsOf(signal, arns);
    return new Map([...tags].map(([arn, t]) => [arn, t[TAG_REVISION] ?? '']));
  }

  private async tagsOf(signal: AbortSignal, arns: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    for (let k = 0; k < arns.length; k += 20) {
      const ResourceArns = arns.slice(k, k + 20);
      const page = await aws('elbv2:DescribeTags', signal, () =>
        this.c.elb.send(new this.c.elbSdk.DescribeTagsCommand({ ResourceArns }), { abortSignal: signal }),
      );
      for (const d of page.TagDescriptions ?? []) {
        out.set(d.ResourceArn ?? '', Object.fromEntries((d.Tags ?? []).map((t: Tag) => [t.Key ?? '', t.Value ?? ''])));
      }
    }
    return out;
  }

  /**
   * Replaces the rule's forward action, and its conditions when the file changed them
   * (host_domain, routes). Never empty: only releaseRouting deletes a rule
   * (docs/design.md#traffic-rules).
   */
  async setRuleTargets(
    signal: AbortSignal,
    rule: DeploymentRule,
    targets: Weighted[],
    deploymentId?: string,
  ): Promise<void> {
    const wanted = deploymentId === undefined ? undefined : this.conditions(deploymentId);
    const Conditions = wanted && !sameConditions(rule.conditions, wanted) ? wanted : undefined;
    await aws('elbv2:ModifyRule', signal, () =>
      this.c.elb.send(
        new this.c.elbSdk.ModifyRuleCommand({
          RuleArn: rule.arn,
          Actions: [forwardAction(targets)],
          Conditions,
        }),
        { abortSignal: signal },
      ),
    );
  }

  /** True when the rule's conditions are not the ones the file asks for now. */
  /** Adds a target group to its deployment's rule at weight 0, creating the rule if needed. */
  async attachGroup(signal: AbortSignal, envId: string, deploymentId: string, tgArn: string): Promise<void> {
    const rule = (await this.deploymentRules(signal, envId)).get(deploymentId);
    const attached = rule?.targets.some((t) => t.arn === tgArn) ?? false;
    if (rule && attached && !this.conditionsChanged(rule, deploymentId)) return;
    const targets = attached ? rule!.targets : [...(rule?.targets ?? []), { arn: tgArn, weight: 0 }];
    checkRuleSize(deploymentId, targets.length);
    if (rule) await this.setRuleTargets(signal, rule, targets, deploymentId);
    else await this.createRule(signal, envId, deploymentId, targets);
  }

  /**
   * Removes a target group from its deployment's rule. Only releaseRouting deletes the rule
   * (docs/design.md#traffic-rules). When the group is the rule's last, a drain leaves it there
   * (its targets are deregistered: the rule routes to nothing); an archive refuses if the group
   * carries traffic, and otherwise (a group warm attached at weight 0, no split applied yet)
   * parks the rule on a fixed 503 so the group can be deleted.
   */
  async detachGroup(
    signal: AbortSignal,
    envId: string,
    revision: { deploymentId: string; revisionId: string; tgArn: string },
    lastGroup: 'keep' | 'refuse',
  ): Promise<void> {
    const { deploymentId, revisionId, tgArn } = revision;
    const rule = (await this.deploymentRules(signal, envId)).get(deploymentId);
    if (!rule || !rule.targets.some((t) => t.arn === tgArn)) return;
    const left = rule.targets.filter((t) => t.arn !== tgArn);
    if (left.length > 0) return this.setRuleTargets(signal, rule, left);
    if (lastGroup === 'keep') return;
    if (rule.targets.some((t) => t.weight > 0)) {
      throw new RoutingNotReleasedError(deploymentId, revisionId, `listener rule ${rule.arn}`);
    }
    await aws('elbv2:ModifyRule', signal, () =>
      this.c.elb.send(new this.c.elbSdk.ModifyRuleCommand({ RuleArn: rule.arn, Actions: [parkedAction()] }), {
        abortSignal: signal,
      }),
    );
  }

  conditionsChanged(rule: DeploymentRule, deploymentId: string): boolean {
    return !sameConditions(rule.conditions, this.conditions(deploymentId));
  }

  async deleteRule(signal: AbortSignal, arn: string): Promise<void> {
    try {
      await this.c.elb.send(new this.c.elbSdk.DeleteRuleCommand({ RuleArn: arn }), { abortSignal: signal });
    } catch (e) {
      if (awsErrorCode(e) === 'RuleNotFound') return;
      await aws('elbv2:DeleteRule', signal, () => Promise.reject(e));
    }
  }

  /**
   * Creates the deployment's rule at a priority derived from its id, probing upwards past
   * priorities other rules hold (PriorityInUse), as two deployments may hash alike. Probes
   * wrap inside bp's window [base, base + 5000), which the schema keeps under ELBv2's
   * ceiling of 50,000.
   */
  async createRule(
    signal: AbortSignal,
    environmentId: string,
    deploymentId: string,
    targets: Weighted[],
  ): Promise<DeploymentRule> {
    const hash = parseInt(
      createHash('sha256').update(`${environmentId}\0${deploymentId}`).digest('hex').slice(0, 8),
      16,
    );
    const conditions = this.conditions(deploymentId);
    for (let probe = 0; ; probe++) {
      try {
        const out = await this.c.elb.send(
          new this.c.elbSdk.CreateRuleCommand({
            ListenerArn: this.config.listener_arn,
            Priority: rulePriority(this.config.rule_priority_base, hash, probe),
            Conditions: conditions,
            Actions: [forwardAction(targets)],
            Tags: [
              { Key: TAG_ENVIRONMENT, Value: environmentId },
              { Key: TAG_DEPLOYMENT, Value: deploymentId },
            ],
          }),
          { abortSignal: signal },
        );
        return { arn: out.Rules?.[0]?.RuleArn ?? '', targets, conditions };
      } catch (e) {
        if (awsErrorCode(e) === 'PriorityInUse' && probe < 50) continue;
        return aws('elbv2:CreateRule', signal, () => Promise.reject(e));
      }
    }
  }

  /** Which requests a deployment's rule matches (see `ruleConditions`). */
  conditions(deploymentId: string): RuleCondition[] {
    return ruleConditions(this.config, deploymentId);
  }

  /** `http://<load balancer DNS name>[:port]` of the configured listener. */
  async endpoint(signal: AbortSignal): Promise<string> {
    const listeners = await aws('elbv2:DescribeListeners', signal, () =>
      this.c.elb.send(
        new this.c.elbSdk.DescribeListenersCommand({
          ListenerArns: [this.config.listener_arn],
        }),
        { abortSignal: signal },
      ),
    );
    const l = listeners.Listeners?.[0];
    const lbs = await aws('elbv2:DescribeLoadBalancers', signal, () =>
      this.c.elb.send(
        new this.c.elbSdk.DescribeLoadBalancersCommand({
          LoadBalancerArns: [l?.LoadBalancerArn ?? ''],
        }),
        { abortSignal: signal },
      ),
    );
    const scheme = l?.Protocol === 'HTTPS' ? 'https' : 'http';
    const port = l?.Port && l.Port !== (scheme === 'https' ? 443 : 80) ? `:${l.Port}` : '';
    return `${scheme}://${lbs.LoadBalancers?.[0]?.DNSName ?? ''}${port}`;
  }
}
