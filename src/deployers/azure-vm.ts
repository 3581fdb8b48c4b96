/**
 * `azure-vm`: runs each revision on Azure VMs behind its own Standard load balancer and public
 * IP, and splits each deployment's traffic with a Traffic Manager profile's weighted endpoints.
 * The SDKs (`@azure/arm-compute`, `@azure/arm-network`, `@azure/arm-trafficmanager`,
 * `@azure/identity`) are loaded on first use, so `create` stays cheap.
 * Configuration, credentials and RBAC: docs/deployers/azure-vm.md.
 */
import { defineDeployer } from '../model/deployer.js';
import { bootProblems } from './azure-vm/boot-script.js';
import { configSchema, settingsFrom, type AzureVmConfig } from './azure-vm/config.js';
import { AzureVmDeployer } from './azure-vm/deployer.js';
import { WEIGHT_GRANULARITY_BPS } from './azure-vm/weights.js';
import { checkAzureVmEnvironment } from './azure-vm/env-checks.js';

export { configSchema };
export type { AzureVmConfig };

export default defineDeployer<AzureVmConfig>({
  type: 'azure-vm',
  apiVersion: 1,
  configSchema,
  weightGranularityBps: WEIGHT_GRANULARITY_BPS,
  // Secrets reach the VMs as references, fetched at boot with the managed identity.
  fetchesSecretsItself: true,
  checkEnvironment: (config, env, instance) => [
    ...checkAzureVmEnvironment(config, env, instance),
    ...bootProblems(config, env, instance),
  ],
  create(config, ctx) {
    return new AzureVmDeployer(settingsFrom(config), ctx.logger);
  },
});
