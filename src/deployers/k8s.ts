/**
 * `k8s`: deploys revisions to any Kubernetes cluster reachable by kubeconfig (or from inside
 * the cluster). Each revision is a Deployment + Service (+ HPA), applied server-side as field
 * manager `bp`; splits are HTTPRoute weights (`traffic: gateway-api`) or replica proportions
 * behind one stable Service (`traffic: replicas`). See docs/deployers/kubernetes.md.
 *
 * The SDK (@kubernetes/client-node) is loaded on first use, never when bp merely starts.
 */
import { defineDeployer } from '../model/deployer.js';
import { checkK8sEnvironment } from './k8s/env-checks.js';
import { deploySettingsSchema, type K8sConfig } from './k8s/settings.js';

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

export default defineDeployer<K8sConfig>({
  type: 'k8s',
  apiVersion: 1,
  configSchema,
  checkEnvironment: (config, env, instance) => checkK8sEnvironment(config, env, instance),
  async create(config, ctx) {
    const [{ K8sDeployer }, { kubeconfigConnector }, { settingsFrom }] = await Promise.all([
      import('./k8s/deployer.js'),
      import('./k8s/connect.js'),
      import('./k8s/settings.js'),
    ]);
    return new K8sDeployer(kubeconfigConnector(config), settingsFrom(config), ctx.logger);
  },
});
