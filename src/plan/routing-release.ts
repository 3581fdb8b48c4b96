/**
 * The one place that decides when a deployment's routing (router, URL map, load-balancer rule,
 * Traffic Manager profile, route) is released (docs/design.md#traffic-rules). Deployers only
 * carry out `releaseRouting`, and their `archiveRevision` never deletes routing: asked to take
 * the last target out of it, they refuse (`RoutingNotReleased`). The engine
 * (`src/apply/archive.ts`) and the conformance bench both ask this tracker before each archive.
 *
 * The rule: routing is released right before the archive of a revision when no other revision
 * of the deployment is routed or will be. Only a revision wanted `ready` can carry traffic
 * after the plan (traffic goes only to ready revisions, and the split of a deployment still in
 * the file sums to 10000 over them); every other one (staged, warming, failed, drained, or
 * ready but wanted inactive or archived) is on its way out of routing, so it must not keep the
 * routing alive: a deployer asked to archive the last routed revision would otherwise have to
 * delete routing a staged or failed sibling still "has".
 *
 * The release comes before the archive: some providers refuse to delete a backend that routing
 * still names (GCP backend services in a URL map, ELBv2 target groups in a rule).
 */
import type { LifecycleState } from '../model/state.js';
import type { DesiredState } from '../model/environment.js';

export interface ReleaseRevision {
  revision_id: string;
  /** Desired state. */
  state: DesiredState;
  /** Recorded lifecycle ('inactive' when nothing is recorded). */
  lifecycle: LifecycleState;
}

/**
 * What the archive about to start does about its deployment's routing:
 * `release` it first; `await` the release another archive of this run started (then archive);
 * `keep` it (another revision is or will be routed).
 */
export type ReleaseDecision = 'release' | 'await' | 'keep';

/** True when `r` is routed now or will be after the plan: the routing must stay for it. */
export function keepsRouting(r: ReleaseRevision): boolean {
  return r.state === 'ready' && r.lifecycle !== 'archived';
}

/** Tracks one run (an apply, a conformance check) of archives and releases. */
export class RoutingReleases {
  /** Revisions whose archive started in this run (a retry of one starts it again). */
  private readonly archiving = new Set<string>();
  /** Deployments whose release was decided in this run (in flight or done), so it runs once. */
  private readonly released = new Set<string>();

  /**
   * Call as the archive of `revisionId` (of `deploymentId`, whose revisions are `revisions`)
   * starts. The first archive that finds no other revision keeping the routing releases it;
   * later ones in the same run await that release instead of releasing again.
   */
  beforeArchive(deploymentId: string, revisions: readonly ReleaseRevision[], revisionId: string): ReleaseDecision {
    this.archiving.add(revisionId);
    const kept = revisions.some(
      (r) => r.revision_id !== revisionId && !this.archiving.has(r.revision_id) && keepsRouting(r),
    );
    if (kept) return 'keep';
    if (this.released.has(deploymentId)) return 'await';
    this.released.add(deploymentId);
    return 'release';
  }

  /** The release decided for `deploymentId` failed: the next archive (or its retry) decides again. */
  releaseFailed(deploymentId: string): void {
    this.released.delete(deploymentId);
  }

  /** A revision staged again after its archive is live again, and its deployment may route again. */
  revived(deploymentId: string, revisionId: string): void {
    this.archiving.delete(revisionId);
    this.released.delete(deploymentId);
  }
}
