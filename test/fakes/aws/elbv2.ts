/**
 * The ELBv2 half of the fake: one pre-existing Application Load Balancer with one HTTP
 * listener (what an operator sets up once), target groups, targets whose health moves with
 * the clock, listener rules with weighted forward actions, and tags. See BEHAVIOUR.md.
 */
import { randomBytes } from 'node:crypto';
import type { Ec2State } from './ec2.js';
import { pageStart, pageToken } from './ec2.js';
import { MAX_PRIORITY, checkActions, checkConditions, forwardTargets, ruleXml, type FakeRule } from './elbv2-rules.js';
import {
  ARN,
  DNS_NAME,
  LISTENER_ARN,
  LOAD_BALANCER_ARN,
  describeListeners,
  loadBalancerXml,
} from './elbv2-listener.js';
import { addTags, describeTags } from './elbv2-tags.js';
import { AwsFault } from './fault.js';
import { bootFailure } from './guest.js';
import { str, strings, trees, type Tree, type XmlValue } from './wire.js';

export type { FakeRule } from './elbv2-rules.js';

interface FakeTarget {
  id: string;
  port: number;
  registeredAt: number;
  deregisteredAt: number | null;
}

export interface FakeTargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  healthCheckPath: string;
  deregistrationDelaySeconds: number;
  tags: Record<string, string>;
  targets: Map<string, FakeTarget>;
}

export interface ElbTiming {
  /** How long a running, registered instance reports `initial` before `healthy`. */
  healthyAfterMs: number;
  /** How long after an instance turns running RegisterTargets still refuses it (`InvalidTarget`): ELB's view of EC2 lags. */
  registrationLagMs: number;
}

export class Elbv2State {
  readonly loadBalancerArn = LOAD_BALANCER_ARN;
  readonly listenerArn = LISTENER_ARN;
  readonly dnsName = DNS_NAME;
  readonly targetGroups = new Map<string, FakeTargetGroup>();
  readonly rules = new Map<string, FakeRule>();
  /** Most items per page of DescribeRules / DescribeTargetGroups (PageSize may ask for fewer). */
  pageSize = 5;

  constructor(
    private readonly ec2: Ec2State,
    private readonly timing: ElbTiming,
    public ruleLimit: number,
  ) {}

  handle(action: string, p: Tree): { tag: string; body: XmlValue } {
    const result = (body: Record<string, XmlValue>) => ({
      tag: `${action}Response`,
      body: { [`${action}Result`]: body },
    });
    switch (action) {
      case 'DescribeLoadBalancers':
        return result({ LoadBalancers: [loadBalancerXml()] });
      case 'DescribeListeners':
        return result({ Listeners: describeListeners(p) });
      case 'CreateTargetGroup':
        return result({ TargetGroups: [this.tgXml(this.createTargetGroup(p))] });
      case 'DescribeTargetGroups': {
        const { items, next } = this.page(p, this.describeTargetGroups(p));
        return result({ TargetGroups: items.map((t) => this.tgXml(t)), NextMarker: next });
      }
      case 'DeleteTargetGroup':
        this.deleteTargetGroup(str(p, 'TargetGroupArn') ?? '');
        return result({});
      case 'ModifyTargetGroupAttributes':
        return result({ Attributes: this.modifyAttributes(p) });
      case 'RegisterTargets':
        this.registerTargets(p);
        return result({});
      case 'DeregisterTargets':
        this.deregisterTargets(p);
        return result({});
      case 'DescribeTargetHealth':
        return result({ TargetHealthDescriptions: this.describeTargetHealth(p) });
      case 'DescribeRules': {
        const { items, next } = this.page(p, this.describeRules(p));
        return result({ Rules: items.map((r) => ruleXml(r)), NextMarker: next });
      }
      case 'CreateRule':
        return result({ Rules: [ruleXml(this.createRule(p))] });
      case 'ModifyRule':
        return result({ Rules: [ruleXml(this.modifyRule(p))] });
      case 'DeleteRule':
        this.deleteRule(str(p, 'RuleArn') ?? '');
        return result({});
      case 'DescribeTags':
        return result({ TagDescriptions: describeTags(p, this.tagged) });
      case 'AddTags':
        addTags(p, this.tagged);
        return result({});
      default:
        throw new AwsFault(400, 'InvalidAction', `Could not find operation ${action} for version 2015-12-01`);
    }
  }

  /** A tagged resource (target group or rule) by ARN. */
  private readonly tagged = (arn: string) => this.targetGroups.get(arn) ?? this.rules.get(arn);

  /** Marker pagination: PageSize 1-400, pages of at most `pageSize`, NextMarker while more remain. */
  private page<T>(p: Tree, all: T[]): { items: T[]; next: string | undefined } {
    const asked = str(p, 'PageSize');
    if (asked !== undefined && (!Number.isInteger(Number(asked)) || Number(asked) < 1 || Number(asked) > 400)) {
      throw new AwsFault(
        400,
        'ValidationError',
        `Value '${asked}' at 'pageSize' failed to satisfy constraint: Member must be between 1 and 400`,
      );
    }
    const from = pageStart(str(p, 'Marker'));
    const size = Math.min(this.pageSize, asked === undefined ? 400 : Number(asked));
    return { items: all.slice(from, from + size), next: from + size < all.length ? pageToken(from + size) : undefined };
  }

  private createTargetGroup(p: Tree): FakeTargetGroup {
    const name = str(p, 'Name') ?? '';
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) {
      throw new AwsFault(
        400,
        'ValidationError',
        `Target group name '${name}' must be 1-32 alphanumerics or hyphens, not starting or ending with a hyphen`,
      );
    }
    const settings = {
      protocol: str(p, 'Protocol') ?? 'HTTP',
      port: Number(str(p, 'Port') ?? '80'),
      vpcId: str(p, 'VpcId') ?? '',
      healthCheckPath: str(p, 'HealthCheckPath') ?? '/',
    };
    const existing = [...this.targetGroups.values()].find((t) => t.name === name);
    if (existing) {
      const same =
        existing.protocol === settings.protocol &&
        existing.port === settings.port &&
        existing.vpcId === settings.vpcId &&
        existing.healthCheckPath === settings.healthCheckPath;
      if (!same)
        throw new AwsFault(
          400,
          'DuplicateTargetGroupName',
          `A target group with the same name '${name}' exists, but with different settings`,
        );
      return existing;
    }
    const tg: FakeTargetGroup = {
      arn: `${ARN}:targetgroup/${name}/${randomBytes(8).toString('hex')}`,
      name,
      ...settings,
      deregistrationDelaySeconds: 300,
      tags: Object.fromEntries(trees(p, 'Tags').map((t) => [str(t, 'Key') ?? '', str(t, 'Value') ?? ''])),
      targets: new Map(),
    };
    this.targetGroups.set(tg.arn, tg);
    return tg;
  }

  private describeTargetGroups(p: Tree): FakeTargetGroup[] {
    const names = strings(p, 'Names');
    const arns = strings(p, 'TargetGroupArns');
    const all = [...this.targetGroups.values()];
    if (names.length > 0) {
      const found = all.filter((t) => names.includes(t.name));
      if (found.length < names.length)
        throw new AwsFault(400, 'TargetGroupNotFound', 'One or more target groups not found');
      return found;
    }
    if (arns.length > 0) {
      const found = all.filter((t) => arns.includes(t.arn));
      if (found.length < arns.length)
        throw new AwsFault(400, 'TargetGroupNotFound', 'One or more target groups not found');
      return found;
    }
    return all;
  }

  private requireTargetGroup(arn: string): FakeTargetGroup {
    const tg = this.targetGroups.get(arn);
    if (!tg) throw new AwsFault(400, 'TargetGroupNotFound', `Target group '${arn}' not found`);
    return tg;
  }

  private rulesUsing(tgArn: string): FakeRule[] {
    return [...this.rules.values()].filter((r) => forwardTargets(r).some((t) => t.arn === tgArn));
  }

  private deleteTargetGroup(arn: string): void {
    if (!this.targetGroups.has(arn)) return;
    if (this.rulesUsing(arn).length > 0) {
      throw new AwsFault(400, 'ResourceInUse', `Target group '${arn}' is currently in use by a listener or a rule`);
    }
    this.targetGroups.delete(arn);
  }

  private modifyAttributes(p: Tree): XmlValue[] {
    const tg = this.requireTargetGroup(str(p, 'TargetGroupArn') ?? '');
    for (const a of trees(p, 'Attributes')) {
      if (str(a, 'Key') === 'deregistration_delay.timeout_seconds') {
        const s = Number(str(a, 'Value'));
        if (!Number.isInteger(s) || s < 0 || s > 3600)
          throw new AwsFault(400, 'InvalidConfigurationRequest', 'deregistration_delay.timeout_seconds must be 0-3600');
        tg.deregistrationDelaySeconds = s;
      }
    }
    return [{ Key: 'deregistration_delay.timeout_seconds', Value: String(tg.deregistrationDelaySeconds) }];
  }

  private registerTargets(p: Tree): void {
    const tg = this.requireTargetGroup(str(p, 'TargetGroupArn') ?? '');
    for (const t of trees(p, 'Targets')) {
      const id = str(t, 'Id') ?? '';
      const inst = this.ec2.instances.get(id);
      const now = Date.now();
      const runningFor = inst ? now - inst.launchedAt - this.ec2.bootMs : -1;
      if (!inst || this.ec2.stateOf(inst, now) !== 'running' || runningFor < this.timing.registrationLagMs) {
        throw new AwsFault(
          400,
          'InvalidTarget',
          `The following targets are not in a running state and cannot be registered: '${id}'`,
        );
      }
      const current = tg.targets.get(id);
      if (current && current.deregisteredAt === null) continue;
      tg.targets.set(id, {
        id,
        port: Number(str(t, 'Port') ?? tg.port),
        registeredAt: Date.now(),
        deregisteredAt: null,
      });
    }
  }

  private deregisterTargets(p: Tree): void {
    const tg = this.requireTargetGroup(str(p, 'TargetGroupArn') ?? '');
    for (const t of trees(p, 'Targets')) {
      const target = tg.targets.get(str(t, 'Id') ?? '');
      if (target && target.deregisteredAt === null) target.deregisteredAt = Date.now();
    }
  }

  /** Health as the balancer sees it right now; targets past their deregistration delay are gone. */
  private describeTargetHealth(p: Tree): XmlValue[] {
    const tg = this.requireTargetGroup(str(p, 'TargetGroupArn') ?? '');
    const now = Date.now();
    const out: XmlValue[] = [];
    for (const t of [...tg.targets.values()]) {
      if (t.deregisteredAt !== null && now - t.deregisteredAt >= tg.deregistrationDelaySeconds * 1000) {
        tg.targets.delete(t.id);
        continue;
      }
      const [State, Reason, Description] = this.health(tg, t, now);
      out.push({
        Target: { Id: t.id, Port: t.port },
        HealthCheckPort: String(t.port),
        TargetHealth: { State, Reason, Description },
      });
    }
    return out;
  }

  private health(tg: FakeTargetGroup, t: FakeTarget, now: number): [string, string | undefined, string | undefined] {
    if (t.deregisteredAt !== null)
      return ['draining', 'Target.DeregistrationInProgress', 'Target deregistration is in progress'];
    if (this.rulesUsing(tg.arn).length === 0)
      return ['unused', 'Target.NotInUse', 'Target group is not configured to receive traffic from the load balancer'];
    const inst = this.ec2.instances.get(t.id);
    const state = inst ? this.ec2.stateOf(inst, now) : 'terminated';
    if (state === 'pending') return ['initial', 'Elb.RegistrationInProgress', 'Target registration is in progress'];
    if (state !== 'running') return ['unused', 'Target.InvalidState', 'Target is in the stopped or terminated state'];
    const since = Math.max(t.registeredAt, inst!.launchedAt + 0);
    if (now - since < this.timing.healthyAfterMs)
      return ['initial', 'Elb.InitialHealthChecking', 'Initial health checks in progress'];
    // The fake cannot run the container: an image under the reserved `.invalid` TLD (RFC 2606)
    // stands for one that fails to pull, so its health checks fail.
    if (/\.invalid[/:]/.test(inst!.userData)) return ['unhealthy', 'Target.FailedHealthChecks', 'Health checks failed'];
    if (bootFailure(inst!.userData, inst!.instanceProfile) !== null)
      return ['unhealthy', 'Target.FailedHealthChecks', 'Health checks failed'];
    return ['healthy', undefined, undefined];
  }

  private describeRules(p: Tree): FakeRule[] {
    const listener = str(p, 'ListenerArn');
    const arns = strings(p, 'RuleArns');
    if (listener && listener !== this.listenerArn)
      throw new AwsFault(400, 'ListenerNotFound', 'One or more listeners not found');
    const rules = [...this.rules.values()].filter(
      (r) => (!listener || r.listenerArn === listener) && (arns.length === 0 || arns.includes(r.arn)),
    );
    if (arns.length > rules.length) throw new AwsFault(400, 'RuleNotFound', 'One or more rules not found');
    return rules.sort((a, b) => Number(a.priority) - Number(b.priority));
  }

  private createRule(p: Tree): FakeRule {
    const listenerArn = str(p, 'ListenerArn') ?? '';
    if (listenerArn !== this.listenerArn)
      throw new AwsFault(400, 'ListenerNotFound', 'One or more listeners not found');
    const priority = str(p, 'Priority') ?? '';
    if (!/^\d+$/.test(priority) || Number(priority) < 1 || Number(priority) > MAX_PRIORITY) {
      throw new AwsFault(
        400,
        'ValidationError',
        `Value '${priority}' at 'priority' failed to satisfy constraint: Member must be between 1 and ${MAX_PRIORITY}`,
      );
    }
    checkConditions(trees(p, 'Conditions'));
    if ([...this.rules.values()].some((r) => r.priority === priority))
      throw new AwsFault(400, 'PriorityInUse', `Priority '${priority}' is currently in use`);
    if (this.rules.size >= this.ruleLimit)
      throw new AwsFault(400, 'TooManyRules', "You've reached the limit on the number of rules per load balancer");
    const actions = trees(p, 'Actions');
    checkActions(actions, (arn) => this.requireTargetGroup(arn));
    const rule: FakeRule = {
      arn: `${ARN}:listener-rule/app/bp-fake/50dc6c495c0c9188/f2f7dc8efc522ab2/${randomBytes(8).toString('hex')}`,
      listenerArn,
      priority,
      conditions: trees(p, 'Conditions'),
      actions,
      tags: Object.fromEntries(trees(p, 'Tags').map((t) => [str(t, 'Key') ?? '', str(t, 'Value') ?? ''])),
    };
    this.rules.set(rule.arn, rule);
    return rule;
  }

  private modifyRule(p: Tree): FakeRule {
    const rule = this.rules.get(str(p, 'RuleArn') ?? '');
    if (!rule) throw new AwsFault(400, 'RuleNotFound', 'One or more rules not found');
    const actions = trees(p, 'Actions');
    if (actions.length > 0) {
      checkActions(actions, (arn) => this.requireTargetGroup(arn));
      rule.actions = actions;
    }
    const conditions = trees(p, 'Conditions');
    if (conditions.length > 0) {
      checkConditions(conditions);
      rule.conditions = conditions;
    }
    return rule;
  }

  private deleteRule(arn: string): void {
    if (!this.rules.delete(arn)) throw new AwsFault(400, 'RuleNotFound', 'One or more rules not found');
  }

  /** Target groups a rule forwards to, with weights (an omitted weight is 1). */
  forwardTargets(rule: FakeRule): Array<{ arn: string; weight: number }> {
    return forwardTargets(rule);
  }

  private tgXml(tg: FakeTargetGroup): XmlValue {
    return {
      TargetGroupArn: tg.arn,
      TargetGroupName: tg.name,
      Protocol: tg.protocol,
      Port: tg.port,
      VpcId: tg.vpcId,
      HealthCheckProtocol: tg.protocol,
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckPath: tg.healthCheckPath,
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: '200' },
      TargetType: 'instance',
      LoadBalancerArns: this.rulesUsing(tg.arn).length > 0 ? [this.loadBalancerArn] : [],
    };
  }
}
