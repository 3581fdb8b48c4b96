/**
 * The shape of a deployment's ALB listener rule, pure: its priority inside bp's window, its
 * conditions compared by what they match, and its forward action as weighted target groups.
 */
import type { Action, Rule, RuleCondition, TargetGroupTuple } from '@aws-sdk/client-elastic-load-balancing-v2';

/** A target group in a forward action and its weight. */
export interface Weighted {
  arn: string;
  weight: number;
}

/** Width of bp's priority window above rule_priority_base. */
export const PRIORITY_WINDOW = 5000;

export function rulePriority(base: number, hash: number, probe: number): number {
  return base + ((hash + probe) % PRIORITY_WINDOW);
}

/** Conditions compared by what they match (field and values), not by how the API echoes them. */
function conditionKey(list: RuleCondition[]): string {
  return JSON.stringify(
    list
      .map((c) => [
        c.Field,
        c.HttpHeaderConfig?.HttpHeaderName ?? '',
        [
          ...(c.HostHeaderConfig?.Values ??
            c.PathPatternConfig?.Values ??
            c.HttpHeaderConfig?.Values ??
            c.Values ??
            []),
        ].sort(),
      ])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );
}

export function sameConditions(a: RuleCondition[], b: RuleCondition[]): boolean {
  return conditionKey(a) === conditionKey(b);
}

export function forwardAction(targets: Weighted[]) {
  return {
    Type: 'forward' as const,
    ForwardConfig: { TargetGroups: targets.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })) },
  };
}

/** What a rule with no target group left answers until bp releases it or a warm attaches one. */
export function parkedAction() {
  return {
    Type: 'fixed-response' as const,
    FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'no revision is warm' },
  };
}

export function forwardTargets(r: Rule): Weighted[] {
  return (r.Actions ?? [])
    .filter((a: Action) => a.Type === 'forward')
    .flatMap((a: Action) => {
      const groups = a.ForwardConfig?.TargetGroups ?? [];
      if (groups.length > 0)
        return groups.map((g: TargetGroupTuple) => ({ arn: g.TargetGroupArn ?? '', weight: g.Weight ?? 1 }));
      return a.TargetGroupArn ? [{ arn: a.TargetGroupArn, weight: 1 }] : [];
    });
}

/** The same target groups with the same weights, in any order. */
export function sameTargets(a: Weighted[], b: Weighted[]): boolean {
  const key = (x: Weighted[]) => JSON.stringify([...x].sort((p, q) => p.arn.localeCompare(q.arn)));
  return key(a) === key(b);
}
