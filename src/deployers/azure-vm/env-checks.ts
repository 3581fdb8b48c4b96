/**
 * What azure-vm refuses at `bp validate` (the plugin's `checkEnvironment`), each at the path
 * of the offending value: the same checks stage and warm run before any ARM call (artifact,
 * VM size, custom data at most 65,535 bytes) plus Traffic Manager's endpoints per profile
 * (one endpoint per warm revision of a deployment). Limits and sources:
 * docs/deployers/azure-vm.md, "Limits".
 */
import type { EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { deploymentsOf, readyRevisions, vmEnvironmentProblems } from '../kit/env-checks.js';
import { bootRefused } from './boot-script.js';
import { settingsFrom, vmSizeFor, type AzureVmConfig } from './config.js';
import { customData, validateArtifact } from './custom-data.js';

/** Traffic Manager: endpoints per profile (Azure subscription and service limits, Traffic Manager). */
export const MAX_ENDPOINTS_PER_PROFILE = 200;

export function checkAzureVmEnvironment(
  config: AzureVmConfig,
  env: Environment,
  instance: string,
): EnvironmentProblem[] {
  const settings = settingsFrom(config);
  const problems: EnvironmentProblem[] = [];
  for (const { deployment, path } of deploymentsOf(env, instance)) {
    const ready = readyRevisions(deployment);
    if (ready.length > MAX_ENDPOINTS_PER_PROFILE) {
      problems.push({
        path: [...path, 'revisions', ready[MAX_ENDPOINTS_PER_PROFILE].index, 'state'],
        message:
          `deployment "${deployment.deployment_id}" has ${ready.length} ready revisions; its Traffic Manager profile ` +
          `takes at most ${MAX_ENDPOINTS_PER_PROFILE} endpoints (one per warm revision): make older revisions inactive or archived`,
      });
    }
  }
  const revisionProblems = vmEnvironmentProblems(env, instance, ({ revision: r }) => ({
    artifact: () => validateArtifact(r),
    size: () => vmSizeFor(r.resources, settings.vm_size),
    // An env the VMs cannot fetch is reported by bootProblems (boot-script.ts), once.
    bootRefused: bootRefused(config, r),
    bootPayload: () => customData(r, settings),
  }));
  return [...problems, ...revisionProblems];
}
