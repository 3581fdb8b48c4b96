/**
 * `k8s`: deploys revisions to any Kubernetes cluster reachable by kubeconfig (or from inside
 * the cluster). Each revision is a Deployment + Service (+ HPA), applied server-side as field
 * manager `bp`; splits are HTTPRoute weights (`traffic: gateway-api`) or replica proportions
 * behind one stable Service (`traffic: replicas`). See docs/deployers/kubernetes.md.
 *
 * The SDK (@kubernetes/client-node) is loaded on first use, never when bp merely starts.
 */
import type { Deployer, Logger } from '../model/deployer.js';
import { lazyDeployer } from './kit/lazy-deployer.js';
import type { Connect } from './k8s/deployer.js';
import { checkK8sEnvironment } from './k8s/env-checks.js';
import { deploySettingsSchema, type K8sConfig, settingsFrom } from './k8s/settings.js';

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kubeconfig: { type: 'string', description: 'Path of the kubeconfig (default: $KUBECONFIG, else ~/.kube/config).' },
    in_cluster: {
      type: 'boolean',
      default: false,
      description: "Use the pod's service account instead of a kubeconfig.",
    },
    context: { type: 'string', description: 'kubeconfig context (default: current-context).' },
    ...deploySettingsSchema,
  },
};

/** The k8s deployer on the cluster `connect` reaches (aws-eks passes its EKS connector). */
export async function k8sDeployer(
  connect: Connect,
  config: Parameters<typeof settingsFrom>[0],
  logger: Logger,
): Promise<Deployer> {
  const { K8sDeployer } = await import('./k8s/deployer.js');
  return new K8sDeployer(connect, settingsFrom(config), logger);
}

export default lazyDeployer<K8sConfig>('k8s', configSchema, {
  checks: [checkK8sEnvironment],
  create: async (config, { logger }) =>
    k8sDeployer((await import('./k8s/connect.js')).kubeconfigConnector(config), config, logger),
});
