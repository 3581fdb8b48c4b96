/**
 * What gcp-compute refuses at `bp validate` (the plugin's `checkEnvironment`), each at the
 * path of the offending value: the same checks stage and warm run before any Compute Engine
 * call (artifact, connection draining 0-3600 s, machine type, metadata 256 KB per value and
 * 512 KB in all). Limits and sources: docs/deployers/gcp-compute.md, "Limits".
 */
import type { EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { artifactPath, vmEnvironmentProblems } from '../kit/env-checks.js';
import { bootRefused } from './boot-script.js';
import { machineTypeFor, settingsFrom, type GcpComputeConfig } from './config.js';
import { templateBody, validateArtifact } from './template.js';

export function checkGcpComputeEnvironment(
  config: GcpComputeConfig,
  env: Environment,
  instance: string,
): EnvironmentProblem[] {
  const settings = settingsFrom(config);
  return vmEnvironmentProblems(env, instance, (site) => {
    const r = site.revision;
    return {
      artifact: () => validateArtifact(r),
      artifactAt: (m) => (m.includes('drain_seconds') ? [...site.path, 'drain_seconds'] : artifactPath(site, m)),
      size: () => machineTypeFor(r.resources, settings.machine_type),
      // An env the VMs cannot fetch is reported by bootProblems (boot-script.ts), once.
      bootRefused: bootRefused(config, r),
      bootPayload: () => templateBody(settings, env.environment_id, site.deployment, r, 'validate'),
      payloadNeedsSize: true,
    };
  });
}
