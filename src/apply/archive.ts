/**
 * The archive verb as bp runs it, in the engine and in the conformance bench alike: when
 * `RoutingReleases` says no other revision of the deployment is or will be routed, the
 * deployer's `releaseRouting` runs first (docs/design.md#traffic-rules), then its
 * `archiveRevision`. Archives of the same deployment that start while that release runs wait
 * for it, so none of them finds routing that names only its own revision.
 */
import type { Deployer, DeployerEnvironment, VerbOptions } from '../model/deployer.js';
import { RoutingReleases } from '../plan/routing-release.js';

/** One run's releases: the rule's decisions plus the release each deployment has in flight. */
export class ReleaseRun {
  readonly rule = new RoutingReleases();
  private readonly inFlight = new Map<string, Promise<unknown>>();

  revived(deploymentId: string, revisionId: string): void {
    this.rule.revived(deploymentId, revisionId);
    this.inFlight.delete(deploymentId);
  }

  /** Releases the deployment's routing if the rule says so, or waits for the release under way. */
  async prepareArchive(
    deployer: Deployer,
    env: DeployerEnvironment,
    deploymentId: string,
    revisionId: string,
    opts: VerbOptions,
  ): Promise<void> {
    const deployment = env.deployments.find((d) => d.deployment_id === deploymentId);
    // An unknown revision is the deployer's precondition error to report, before any provider call.
    if (!deployer.releaseRouting || !deployment?.revisions.some((r) => r.revision_id === revisionId)) return;
    for (;;) {
      const decision = this.rule.beforeArchive(deploymentId, deployment.revisions, revisionId);
      if (decision === 'keep') return;
      if (decision === 'release') {
        const releaseRouting = deployer.releaseRouting.bind(deployer);
        const release = Promise.resolve().then(() => releaseRouting(env, deploymentId, opts));
        this.inFlight.set(deploymentId, release);
        try {
          await release;
          return;
        } catch (e) {
          this.inFlight.delete(deploymentId);
          this.rule.releaseFailed(deploymentId);
          throw e;
        }
      }
      // Another archive's release: wait for it; if it failed, decide again (this one may release).
      if (
        await (this.inFlight.get(deploymentId) ?? Promise.resolve()).then(
          () => true,
          () => false,
        )
      )
        return;
    }
  }
}

export async function archiveWithRouting(
  deployer: Deployer,
  env: DeployerEnvironment,
  deploymentId: string,
  revisionId: string,
  opts: VerbOptions,
  releases: ReleaseRun,
): Promise<void> {
  await releases.prepareArchive(deployer, env, deploymentId, revisionId, opts);
  await deployer.archiveRevision(env, revisionId, opts);
}
