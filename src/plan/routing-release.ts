/**
 * The one place that decides when a deployment's routing (router, URL map, load-balancer rule,
 * Traffic Manager profile) is released: with its last revision (docs/design.md#traffic-rules).
 * Deployers only carry out `releaseRouting`; the engine (`src/apply/executor.ts`) and the
 * conformance bench both ask this tracker before each archive, so no deployer decides it.
 *
 * The release comes before the archive of the last revision: some providers refuse to delete
 * a backend that routing still names (GCP backend services in a URL map), and the revision is
 * taken out of service either way.
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

/** Tracks one run (an apply, a conformance check) of archives. */
export class RoutingReleases {
  /** Revisions whose archive started in this run (a retry of one starts it again). */
  private readonly archiving = new Set<string>();

  /**
   * Call as the archive of `revisionId` starts. True when every other revision of the
   * deployment is gone or being archived too: then the deployment's routing goes first.
   * Archives that run at once each count the others, so one of them always releases.
   */
  beforeArchive(revisions: readonly ReleaseRevision[], revisionId: string): boolean {
    this.archiving.add(revisionId);
    return revisions.every((r) => r.revision_id === revisionId || this.isGone(r));
  }

  /** A revision staged again after its archive is live again. */
  revived(revisionId: string): void {
    this.archiving.delete(revisionId);
  }

  private isGone(r: ReleaseRevision): boolean {
    if (this.archiving.has(r.revision_id) || r.lifecycle === 'archived') return true;
    // Wanted archived and never brought up (or drained): it serves nothing that routing needs.
    return r.state === 'archived' && r.lifecycle === 'inactive';
  }
}
