/**
 * `gcp-compute`: runs each revision as a zonal managed instance group of Compute Engine VMs
 * behind its own backend service, and splits each deployment's traffic with a URL map's
 * `defaultRouteAction.weightedBackendServices` on a global external Application Load Balancer.
 * The SDK (`@google-cloud/compute`) is loaded on first use, so `create` stays cheap.
 * Configuration, credentials and IAM: docs/deployers/gcp-compute.md.
 */
import { vmDeployer } from './kit/lazy-deployer.js';
import { bootProblems } from './gcp-compute/boot-script.js';
import { configSchema, settingsFrom, type GcpComputeConfig } from './gcp-compute/config.js';
import { WEIGHT_GRANULARITY_BPS } from './gcp-compute/weights.js';
import { checkGcpComputeEnvironment } from './gcp-compute/env-checks.js';

// Secrets reach the VMs as references, fetched at boot with the service account.
export default vmDeployer<GcpComputeConfig>('gcp-compute', configSchema, {
  weightGranularityBps: WEIGHT_GRANULARITY_BPS,
  checks: [checkGcpComputeEnvironment, bootProblems],
  create: async (config, { logger }) =>
    new (await import('./gcp-compute/deployer.js')).GcpComputeDeployer(settingsFrom(config), logger),
});
