/**
 * What gcp-compute refuses at `bp validate` (the plugin's `checkEnvironment`), each at the
 * path of the offending value: the same checks stage and warm run before any Compute Engine
 * call (artifact, connection draining 0-3600 s, machine type, metadata 256 KB per value and
 * 512 KB in all). Limits and sources: docs/deployers/gcp-compute.md, "Limits".
 */
import type { EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { artifactPath, largestEnvPath, refusal, revisionsOf } from '../kit/env-checks.js';
import { bootRefused } from './boot-script.js';
import { machineTypeFor, settingsFrom, type GcpComputeConfig } from './config.js';
import { templateBody, validateArtifact } from './template.js';

export function checkGcpComputeEnvironment(
  config: GcpComputeConfig,
  env: Environment,
  instance: string,
): EnvironmentProblem[] {
  const settings = settingsFrom(config);
  const problems: EnvironmentProblem[] = [];
  for (const site of revisionsOf(env, instance)) {
    const r = site.revision;
    const artifact = refusal(
      () => validateArtifact(r),
      (m) => (m.includes('drain_seconds') ? [...site.path, 'drain_seconds'] : artifactPath(site, m)),
    );
    problems.push(...artifact);
    const machine = refusal(() => machineTypeFor(r.resources, settings.machine_type), [...site.path, 'resources']);
    problems.push(...machine);
    // An env the VMs cannot fetch is reported by bootProblems (boot-script.ts), once.
    if (artifact.length > 0 || machine.length > 0 || bootRefused(config, r)) continue;
    problems.push(
      ...refusal(
        () => templateBody(settings, env.environment_id, site.deployment, r, 'validate'),
        largestEnvPath(site),
      ),
    );
  }
  return problems;
}
