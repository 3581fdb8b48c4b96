/**
 * The archive verb as bp runs it, in the engine and in the conformance bench alike: when
 * `RoutingReleases` says this is the deployment's last revision, the deployer's
 * `releaseRouting` runs first (docs/design.md#traffic-rules), then its `archiveRevision`.
 */
import type { Deployer, DeployerEnvironment, VerbOptions } from '../model/deployer.js';
import type { RoutingReleases } from '../plan/routing-release.js';

export async function archiveWithRouting(
  deployer: Deployer,
  env: DeployerEnvironment,
  deploymentId: string,
  revisionId: string,
  opts: VerbOptions,
  releases: RoutingReleases,
): Promise<void> {
  const deployment = env.deployments.find((d) => d.deployment_id === deploymentId);
  // An unknown revision is the deployer's precondition error to report, before any provider call.
  const known = deployment?.revisions.some((r) => r.revision_id === revisionId) ?? false;
  if (known && deployer.releaseRouting && releases.beforeArchive(deployment?.revisions ?? [], revisionId)) {
    await deployer.releaseRouting(env, deploymentId, opts);
  }
  await deployer.archiveRevision(env, revisionId, opts);
}
