/**
 * `aws-ec2`: runs each revision on EC2 instances behind an ELBv2 (Application Load Balancer)
 * target group and splits each deployment's traffic with the weights of a listener rule's
 * forward action. The deployer and the AWS SDK are loaded on first use; see docs/deployers/aws-ec2.md.
 */
import { vmDeployer } from './kit/lazy-deployer.js';
import { bootProblems } from './aws-ec2/boot-script.js';
import { type AwsEc2Config, configSchema } from './aws-ec2/config.js';
import { WEIGHT_GRANULARITY_BPS } from './aws-ec2/weights.js';
import { checkAwsEc2Environment } from './aws-ec2/env-checks.js';

// Secrets reach the instances as references, fetched at boot with the instance profile.
export default vmDeployer<AwsEc2Config>('aws-ec2', configSchema, {
  weightGranularityBps: WEIGHT_GRANULARITY_BPS,
  // Boot-script rules (secret fetch, GPU image families) and provider limits, both before any AWS call.
  checks: [bootProblems, checkAwsEc2Environment],
  create: async (config, { logger }) => new (await import('./aws-ec2/deployer.js')).AwsEc2Deployer(config, logger),
});
