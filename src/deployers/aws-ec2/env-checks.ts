/**
 * What aws-ec2 refuses at `bp validate` (the plugin's `checkEnvironment`), each at the path of
 * the offending value: the same checks stage and warm run before any AWS call, so an env file
 * that reaches a fixed ELBv2 or EC2 limit is refused before anything billable exists. The
 * limits and their sources: docs/deployers/aws-ec2.md, "Limits".
 */
import type { EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { deploymentsOf, readyRevisions, refusal, vmEnvironmentProblems } from '../kit/env-checks.js';
import { bootRefused } from './boot-script.js';
import type { AwsEc2Config } from './config.js';
import { checkArtifact, instanceTypeFor, userData } from './launch.js';
import { checkRuleSize, checkUserData, conditionProblems } from './limits.js';

export function checkAwsEc2Environment(config: AwsEc2Config, env: Environment, instance: string): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  const configPath = ['deployers', instance, 'config'];
  for (const { deployment, path } of deploymentsOf(env, instance)) {
    const id = deployment.deployment_id;
    const found = conditionProblems(config, id);
    if (found.length > 0) {
      const where = config.routes?.[id] ? [...configPath, 'routes', id] : [...configPath, 'host_domain'];
      problems.push({
        path: where,
        at: config.routes?.[id] ? 'key' : 'value',
        message: `deployment "${id}": the ALB listener rule cannot be created: ${found.join('; ')}`,
      });
    }
    // Each warm revision is one target group in the deployment's forward action.
    const ready = readyRevisions(deployment);
    if (ready.length > 0) {
      const sixth = ready[Math.min(ready.length - 1, 5)];
      problems.push(...refusal(() => checkRuleSize(id, ready.length), [...path, 'revisions', sixth.index, 'state']));
    }
  }
  const revisionProblems = vmEnvironmentProblems(env, instance, ({ revision: r }) => ({
    artifact: () => checkArtifact(r),
    size: () => instanceTypeFor(r.resources, config.instance_type),
    // An env the instances cannot fetch is reported by bootProblems (boot-script.ts), once.
    bootRefused: bootRefused(config, r),
    bootPayload: () => checkUserData(r, userData(r, config)),
  }));
  return [...problems, ...revisionProblems];
}
