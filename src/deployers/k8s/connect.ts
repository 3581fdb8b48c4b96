/** Builds clients from a kubeconfig file, the in-cluster service account, or a KubeConfig object. */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ProviderError } from '../../model/errors.js';
import { DEFAULT_CLIENT_SETTINGS, KubeClient } from './client.js';
import type { Connect } from './deployer.js';
import { loadKubeSdk, type Sdk } from './sdk.js';
import type { K8sConfig } from './settings.js';

export function clientSettingsFrom(config: K8sConfig) {
  return {
    ...DEFAULT_CLIENT_SETTINGS,
    forceConflicts: config.force_conflicts ?? true,
    attempts: config.request_attempts ?? DEFAULT_CLIENT_SETTINGS.attempts,
  };
}

/** A client over `kc`, in `config.namespace`, else the context's namespace, else "default". */
export function clientFor(sdk: Sdk, kc: KubeConfig, config: K8sConfig): KubeClient {
  const context = kc.getContextObject(kc.getCurrentContext());
  return new KubeClient(sdk, kc, config.namespace ?? context?.namespace ?? 'default', clientSettingsFrom(config));
}

/** Loads the kubeconfig on first use (so `bp validate` needs no cluster) and keeps the client. */
export function kubeconfigConnector(config: K8sConfig): Connect {
  let client: Promise<KubeClient> | undefined;
  return () => {
    client ??= (async () => {
      const sdk = await loadKubeSdk();
      return clientFor(sdk, loadKubeConfig(sdk, config), config);
    })();
    client.catch(() => (client = undefined));
    return client;
  };
}

function loadKubeConfig(sdk: Sdk, config: K8sConfig): KubeConfig {
  const kc = new sdk.KubeConfig();
  const source = config.in_cluster
    ? 'the in-cluster service account'
    : config.kubeconfig
      ? `kubeconfig ${resolve(config.kubeconfig)}`
      : `kubeconfig ${process.env.KUBECONFIG ?? resolve(homedir(), '.kube/config')}`;
  try {
    if (config.in_cluster) kc.loadFromCluster();
    else if (config.kubeconfig) kc.loadFromFile(resolve(config.kubeconfig));
    else kc.loadFromDefault();
  } catch (e) {
    throw new ProviderError(`cannot load ${source}: ${(e as Error).message}`, { cause: e });
  }
  if (config.context) {
    if (!kc.getContextObject(config.context)) {
      throw new ProviderError(
        `${source} has no context "${config.context}" (it has: ${
          kc
            .getContexts()
            .map((c: { name: string }) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kc.setCurrentContext(config.context);
  }
  if (!kc.getCurrentCluster())
    throw new ProviderError(`${source} names no current cluster; set context in the deployer config`);
  return kc;
}
