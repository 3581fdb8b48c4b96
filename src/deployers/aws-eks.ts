/**
 * `aws-eks`: the k8s deployer on an EKS cluster found by name. DescribeCluster gives the API
 * endpoint and CA, a presigned STS GetCallerIdentity URL gives the bearer token (the
 * `k8s-aws-v1.` scheme), and everything else is the k8s deployer. AWS and Kubernetes SDKs load
 * on first use.
 */
import { k8sDeployer } from './k8s.js';
import { lazyDeployer } from './kit/lazy-deployer.js';
import { checkK8sEnvironment } from './k8s/env-checks.js';
import type { EksConfig } from './aws-eks/cluster.js';
import { deploySettingsSchema } from './k8s/settings.js';

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cluster_name'],
  properties: {
    cluster_name: { type: 'string', minLength: 1, description: 'Name of the EKS cluster.' },
    region: { type: 'string', description: 'AWS region (default: AWS_REGION / AWS_DEFAULT_REGION).' },
    endpoint_url: { type: 'string', description: 'EKS API endpoint override (VPC endpoint, tests).' },
    sts_host: {
      type: 'string',
      description:
        "STS host the token is presigned for (default: the region's STS endpoint, sts.REGION.amazonaws.com, or sts.REGION.amazonaws.com.cn in the China regions).",
    },
    insecure_skip_tls_verify: {
      type: 'boolean',
      default: false,
      description: 'Do not verify the cluster certificate (tests only).',
    },
    ...deploySettingsSchema,
  },
};

export default lazyDeployer<EksConfig>('aws-eks', configSchema, {
  checks: [checkK8sEnvironment],
  create: async (config, { logger }) =>
    k8sDeployer((await import('./aws-eks/cluster.js')).eksConnector(config), config, logger),
});
