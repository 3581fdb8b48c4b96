/**
 * `gcp-compute`: runs each revision as a zonal managed instance group of Compute Engine VMs
 * behind its own backend service, and splits each deployment's traffic with a URL map's
 * `defaultRouteAction.weightedBackendServices` on a global external Application Load Balancer.
 * The SDK (`@google-cloud/compute`) is loaded on first use, so `create` stays cheap.
 * Configuration, credentials and IAM: docs/deployers/gcp-compute.md.
 */
import { defineDeployer } from '../model/deployer.js';
import { bootProblems } from './gcp-compute/boot-script.js';
import { configSchema, settingsFrom, type GcpComputeConfig } from './gcp-compute/config.js';
import { GcpComputeDeployer } from './gcp-compute/deployer.js';
import { WEIGHT_GRANULARITY_BPS } from './gcp-compute/weights.js';
import { checkGcpComputeEnvironment } from './gcp-compute/env-checks.js';

export { configSchema };
export type { GcpComputeConfig };

export default defineDeployer<GcpComputeConfig>({
  type: 'gcp-compute',
  apiVersion: 1,
  configSchema,
  weightGranularityBps: WEIGHT_GRANULARITY_BPS,
  // Secrets reach the VMs as references, fetched at boot with the service account.
  fetchesSecretsItself: true,
  checkEnvironment: (config, env, instance) => [
    ...checkGcpComputeEnvironment(config, env, instance),
    ...bootProblems(config, env, instance),
  ],
  create(config, ctx) {
    return new GcpComputeDeployer(settingsFrom(config), ctx.logger);
  },
});
