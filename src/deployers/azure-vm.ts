/**
 * `azure-vm`: runs each revision on Azure VMs behind its own Standard load balancer and public
 * IP, and splits each deployment's traffic with a Traffic Manager profile's weighted endpoints.
 * The SDKs (`@azure/arm-compute`, `@azure/arm-network`, `@azure/arm-trafficmanager`,
 * `@azure/identity`) are loaded on first use, so `create` stays cheap.
 * Configuration, credentials and RBAC: docs/deployers/azure-vm.md.
 */
import { vmDeployer } from './kit/lazy-deployer.js';
import { bootProblems } from './azure-vm/boot-script.js';
import { configSchema, settingsFrom, type AzureVmConfig } from './azure-vm/config.js';
import { WEIGHT_GRANULARITY_BPS } from './azure-vm/weights.js';
import { checkAzureVmEnvironment } from './azure-vm/env-checks.js';

// Secrets reach the VMs as references, fetched at boot with the managed identity.
export default vmDeployer<AzureVmConfig>('azure-vm', configSchema, {
  weightGranularityBps: WEIGHT_GRANULARITY_BPS,
  checks: [checkAzureVmEnvironment, bootProblems],
  create: async (config, { logger }) =>
    new (await import('./azure-vm/deployer.js')).AzureVmDeployer(settingsFrom(config), logger),
});
