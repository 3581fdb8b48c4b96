/**
 * The fixed AWS limits an env file can reach, checked before any provider call so that
 * nothing billable is created for a step the API would refuse. Sources, per limit, are in
 * docs/deployers/aws-ec2.md ("Limits").
 */
import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import type { AwsEc2Config } from './config.js';

/** ALB: match values per condition, and per rule (all conditions together). Not adjustable. */
export const MAX_VALUES_PER_CONDITION = 3;
export const MAX_VALUES_PER_RULE = 5;
/** ALB: target groups one forward action weighs, i.e. warm revisions per deployment. */
export const MAX_TARGET_GROUPS_PER_RULE = 5;
/** ALB: a host-header value is at most 128 characters. */
export const MAX_HOST_LENGTH = 128;
/** EC2: user data is at most 16 KB before base64 encoding. */
export const MAX_USER_DATA_BYTES = 16 * 1024;

/**
 * Which requests a deployment's rule matches: `routes[deployment]` when configured, else
 * host `<deployment>.<host_domain>`, else requests carrying `X-BP-Deployment: <deployment>`.
 */
export function ruleConditions(config: AwsEc2Config, deploymentId: string): RuleCondition[] {
  const route = config.routes?.[deploymentId];
  const out: RuleCondition[] = [];
  if (route?.host_headers?.length) out.push({ Field: 'host-header', HostHeaderConfig: { Values: route.host_headers } });
  if (route?.path_patterns?.length)
    out.push({ Field: 'path-pattern', PathPatternConfig: { Values: route.path_patterns } });
  if (out.length > 0) return out;
  if (config.host_domain)
    return [{ Field: 'host-header', HostHeaderConfig: { Values: [`${deploymentId}.${config.host_domain}`] } }];
  return [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-BP-Deployment', Values: [deploymentId] } }];
}

/** Problems with a deployment's rule conditions, as sentences (empty when CreateRule would take them). */
export function conditionProblems(config: AwsEc2Config, deploymentId: string): string[] {
  const conditions = ruleConditions(config, deploymentId);
  const problems: string[] = [];
  let total = 0;
  for (const c of conditions) {
    const values = c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.HttpHeaderConfig?.Values ?? [];
    total += values.length;
    if (values.length > MAX_VALUES_PER_CONDITION) {
      problems.push(
        `its ${c.Field} condition has ${values.length} values; an ALB condition takes at most ${MAX_VALUES_PER_CONDITION}`,
      );
    }
    if (c.Field === 'host-header') {
      for (const v of values.filter((h: string) => h.length > MAX_HOST_LENGTH)) {
        problems.push(
          `host "${v.slice(0, 40)}..." is ${v.length} characters; an ALB host condition takes at most ${MAX_HOST_LENGTH}`,
        );
      }
    }
  }
  if (total > MAX_VALUES_PER_RULE) {
    problems.push(`its conditions have ${total} values together; an ALB rule takes at most ${MAX_VALUES_PER_RULE}`);
  }
  return problems;
}

export function checkRuleConditions(config: AwsEc2Config, deploymentId: string): void {
  const problems = conditionProblems(config, deploymentId);
  if (problems.length > 0) {
    throw new ProviderError(
      `deployment "${deploymentId}": the listener rule cannot be created: ${problems.join('; ')}; ` +
        'change routes or host_domain in the aws-ec2 deployer config',
    );
  }
}

export function checkUserData(revision: DeployerRevision, script: string): void {
  const bytes = Buffer.byteLength(script, 'utf8');
  if (bytes > MAX_USER_DATA_BYTES) {
    throw new ProviderError(
      `revision "${revision.revision_id}": its startup script is ${bytes} bytes; EC2 user data takes at most ` +
        `${MAX_USER_DATA_BYTES} bytes (16 KB): move large artifact.env values into a secret store or the image`,
    );
  }
}

/** Refuses before any call a warm that would put a 6th target group into a deployment's forward action. */
export function checkRuleSize(deploymentId: string, count: number): void {
  if (count > MAX_TARGET_GROUPS_PER_RULE) {
    throw new ProviderError(
      `deployment "${deploymentId}" would need ${count} warm revisions in one listener rule; ` +
        `ELBv2 forwards to at most ${MAX_TARGET_GROUPS_PER_RULE} target groups: drain or archive a revision first`,
    );
  }
}
