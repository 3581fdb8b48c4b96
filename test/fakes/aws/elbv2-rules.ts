/**
 * Listener rules of the ELBv2 fake: the fixed limits a rule's conditions and forward actions
 * are checked against (BEHAVIOUR.md), the target groups a rule forwards to, and a rule's wire
 * shape. The rule store itself stays in `Elbv2State` (elbv2.ts).
 */
import { AwsFault } from './fault.js';
import { str, strings, trees, type Tree, type XmlValue } from './wire.js';

const MAX_TARGET_GROUPS_PER_ACTION = 5;
const MAX_WEIGHT = 999;
/** ALB User Guide, "Listener rules", "Rule conditions" and "Quotas for your Application Load Balancers". */
const MAX_VALUES_PER_CONDITION = 3;
const MAX_VALUES_PER_RULE = 5;
export const MAX_PRIORITY = 50000;

export interface FakeRule {
  arn: string;
  listenerArn: string;
  priority: string;
  conditions: Tree[];
  actions: Tree[];
  tags: Record<string, string>;
}

/** Forward actions: at most 5 target groups, each existing, weights 0-999. */
export function checkActions(actions: Tree[], requireTargetGroup: (arn: string) => unknown): void {
  for (const a of actions) {
    if (str(a, 'Type') !== 'forward') continue;
    const groups = trees(a.ForwardConfig as Tree | undefined, 'TargetGroups');
    if (groups.length > MAX_TARGET_GROUPS_PER_ACTION) {
      throw new AwsFault(
        400,
        'ValidationError',
        `A forward action can have at most ${MAX_TARGET_GROUPS_PER_ACTION} target groups`,
      );
    }
    for (const g of groups) {
      requireTargetGroup(str(g, 'TargetGroupArn') ?? '');
      const w = Number(str(g, 'Weight') ?? '1');
      if (!Number.isInteger(w) || w < 0 || w > MAX_WEIGHT)
        throw new AwsFault(400, 'ValidationError', `Weight must be between 0 and ${MAX_WEIGHT}`);
    }
  }
}

/** Values per condition and per rule are fixed quotas (not adjustable). */
export function checkConditions(conditions: Tree[]): void {
  let total = 0;
  for (const c of conditions) {
    const field = str(c, 'Field') ?? '';
    const config = {
      'host-header': 'HostHeaderConfig',
      'path-pattern': 'PathPatternConfig',
      'http-header': 'HttpHeaderConfig',
    }[field];
    const values = config ? strings(c[config] as Tree | undefined, 'Values') : strings(c, 'Values');
    if (values.length === 0)
      throw new AwsFault(400, 'ValidationError', `A '${field}' condition needs at least one value`);
    if (values.length > MAX_VALUES_PER_CONDITION) {
      throw new AwsFault(
        400,
        'InvalidConfigurationRequest',
        `A condition can have at most '${MAX_VALUES_PER_CONDITION}' values`,
      );
    }
    total += values.length;
  }
  if (total > MAX_VALUES_PER_RULE) {
    throw new AwsFault(
      400,
      'InvalidConfigurationRequest',
      `A rule can only have '${MAX_VALUES_PER_RULE}' condition values`,
    );
  }
}

/** Target groups a rule forwards to, with weights (an omitted weight is 1). */
export function forwardTargets(rule: FakeRule): Array<{ arn: string; weight: number }> {
  return rule.actions
    .filter((a) => str(a, 'Type') === 'forward')
    .flatMap((a) => {
      const groups = trees(a.ForwardConfig as Tree | undefined, 'TargetGroups');
      if (groups.length > 0)
        return groups.map((g) => ({ arn: str(g, 'TargetGroupArn') ?? '', weight: Number(str(g, 'Weight') ?? '1') }));
      const single = str(a, 'TargetGroupArn');
      return single ? [{ arn: single, weight: 1 }] : [];
    });
}

export function ruleXml(r: FakeRule): XmlValue {
  return {
    RuleArn: r.arn,
    Priority: r.priority,
    Conditions: r.conditions as XmlValue,
    Actions: r.actions as XmlValue,
    IsDefault: false,
  };
}
