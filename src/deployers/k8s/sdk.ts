/**
 * Loads @kubernetes/client-node on first use, so `bp --version` and local-only work never pay
 * for it, and a missing package is one clear sentence saying what to install.
 */
import type * as KubeSdk from '@kubernetes/client-node';
import { PluginLoadError } from '../../model/errors.js';

export type Sdk = typeof KubeSdk;

let loading: Promise<Sdk> | undefined;

export function loadKubeSdk(moduleName = '@kubernetes/client-node'): Promise<Sdk> {
  if (moduleName !== '@kubernetes/client-node') return importSdk(moduleName);
  loading ??= importSdk(moduleName);
  loading.catch(() => (loading = undefined));
  return loading;
}

async function importSdk(moduleName: string): Promise<Sdk> {
  try {
    return (await import(moduleName)) as Sdk;
  } catch (e) {
    throw new PluginLoadError(
      `the k8s deployer needs the ${moduleName} package, which is not installed; run: npm install @kubernetes/client-node@^1.4.0`,
      { cause: e },
    );
  }
}
