/**
 * Taking deployments down the way bp does (`bp destroy`, a deployment removed from the file):
 * every revision wanted archived, each archive through the engine's path
 * (`src/apply/archive.ts`), which releases the deployment's routing once, before the archive
 * that needs it (docs/design.md#traffic-rules). Deployer tests use it instead of calling
 * `archiveRevision` on a deployment's last routed revision, which deployers refuse.
 */
import { archiveWithRouting, ReleaseRun } from '../../src/apply/archive.js';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';

/** `env` as bp hands it over to take `deploymentIds` (all when omitted) down. */
export function teardownEnv(env: DeployerEnvironment, deploymentIds?: readonly string[]): DeployerEnvironment {
  const copy = structuredClone(env);
  for (const d of copy.deployments) {
    if (deploymentIds && !deploymentIds.includes(d.deployment_id)) continue;
    for (const r of d.revisions) r.state = 'archived';
  }
  return copy;
}

/** Archives every revision of `deploymentIds` (all when omitted), one after another, as bp's engine does. */
export async function takeDown(
  deployer: Deployer,
  env: DeployerEnvironment,
  deploymentIds?: readonly string[],
  signal: AbortSignal = new AbortController().signal,
): Promise<void> {
  const down = teardownEnv(env, deploymentIds);
  const run = new ReleaseRun();
  for (const d of down.deployments) {
    if (deploymentIds && !deploymentIds.includes(d.deployment_id)) continue;
    for (const r of d.revisions)
      await archiveWithRouting(deployer, down, d.deployment_id, r.revision_id, { signal }, run);
  }
}
