/**
 * `aws-ec2`: runs each revision on EC2 instances behind an ELBv2 (Application Load Balancer)
 * target group and splits each deployment's traffic with the weights of a listener rule's
 * forward action. The AWS SDK is loaded on first use; see docs/deployers/aws-ec2.md.
 */
import { defineDeployer } from '../model/deployer.js';
import { bootProblems } from './aws-ec2/boot-script.js';
import { type AwsEc2Config, configSchema } from './aws-ec2/config.js';
import { AwsEc2Deployer } from './aws-ec2/deployer.js';
import { WEIGHT_GRANULARITY_BPS } from './aws-ec2/weights.js';
import { checkAwsEc2Environment } from './aws-ec2/env-checks.js';

export { configSchema };
export type { AwsEc2Config };

export default defineDeployer<AwsEc2Config>({
  type: 'aws-ec2',
  apiVersion: 1,
  configSchema,
  weightGranularityBps: WEIGHT_GRANULARITY_BPS,
  // Secrets reach the instances as references, fetched at boot with the instance profile.
  fetchesSecretsItself: true,
  // Boot-script rules (secret fetch, GPU image families) and provider limits, both before any AWS call.
  checkEnvironment: (config, env, instance) => [
    ...bootProblems(config, env, instance),
    ...checkAwsEc2Environment(config, env, instance),
  ],
  create(config, ctx) {
    return new AwsEc2Deployer(config, ctx.logger);
  },
});
