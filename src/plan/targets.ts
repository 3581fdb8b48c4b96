/**
 * Where each revision should end up: its declared state, archived when it (or its
 * deployment) left the file or under destroy, and archived when its TTL has passed, unless
 * it still carries traffic: then it is only reported (docs/design.md#traffic-rules).
 */
import { parseDurationMs } from '../model/environment.js';
import type { ExpiredRevision } from '../model/plan.js';
import type { TargetLifecycle } from './lifecycle.js';
import { weightOf } from './splits.js';
import type { DeploymentUnit, RevisionSlot } from './universe.js';

export interface TargetDecision {
  target: TargetLifecycle;
  /** Why the target is `archived`; null for declared ready/inactive targets. */
  archiveReason: string | null;
  /** The TTL has passed (whatever the lifecycle); lets an expired archived revision stay archived. */
  ttlExpired: boolean;
  expired: ExpiredRevision | null;
}

export function decideTarget(unit: DeploymentUnit, slot: RevisionSlot, now: Date, destroy: boolean): TargetDecision {
  let target: TargetLifecycle;
  let archiveReason: string | null = null;
  if (destroy) {
    target = 'archived';
    archiveReason = 'destroy';
  } else if (unit.desired === null) {
    target = 'archived';
    archiveReason = 'deployment removed from file';
  } else if (slot.desired === null) {
    target = 'archived';
    archiveReason = 'removed from file';
  } else {
    target = slot.desired.state;
    if (target === 'archived') archiveReason = 'desired archived';
    else if (keepsRecordedLifecycle(unit, slot)) {
      target = slot.recorded!.lifecycle === 'archived' ? 'archived' : 'inactive';
    }
  }

  const expiredAt = expiryOf(slot);
  const ttlExpired = expiredAt !== null && now.getTime() >= expiredAt;
  let expired: ExpiredRevision | null = null;
  if (ttlExpired && slot.recorded && slot.recorded.lifecycle !== 'archived') {
    const carries =
      weightOf(unit.recorded?.split ?? [], slot.revision_id) > 0 ||
      weightOf(unit.desired?.traffic ?? [], slot.revision_id) > 0;
    expired = {
      deployment_id: unit.deployment_id,
      revision_id: slot.revision_id,
      expired_at: new Date(expiredAt).toISOString(),
      carries_traffic: carries,
    };
    if (!carries && target !== 'archived') {
      target = 'archived';
      archiveReason = 'ttl expired';
    }
  }
  return { target, archiveReason, ttlExpired, expired };
}

/**
 * The default for a revision without `state:` (docs/design.md#lifecycle): a new revision is made
 * ready, but one at 0% that was already drained (or is draining) or archived stays where it is,
 * so a script that appends revisions to the file never re-stages or re-warms the old ones.
 * Writing `state: ready` brings such a revision back (from inactive; archived is final).
 */
function keepsRecordedLifecycle(unit: DeploymentUnit, slot: RevisionSlot): boolean {
  const lifecycle = slot.recorded?.lifecycle;
  return (
    slot.desired?.state_defaulted === true &&
    (lifecycle === 'inactive' || lifecycle === 'draining' || lifecycle === 'archived') &&
    weightOf(unit.desired?.traffic ?? [], slot.revision_id) === 0
  );
}

/** Epoch ms at which the revision expires, or null when it has no TTL or was never staged. */
function expiryOf(slot: RevisionSlot): number | null {
  // The file wins for a declared revision, so an operator can extend, shorten or drop a TTL
  // without a new revision (ttl is not part of the immutable spec); recorded state speaks
  // only for revisions the file no longer declares.
  const ttl = slot.desired ? slot.desired.ttl : (slot.recorded?.ttl ?? null);
  const stagedAt = slot.recorded?.staged_at ?? null;
  if (ttl === null || stagedAt === null) return null;
  const ms = parseDurationMs(ttl);
  const start = Date.parse(stagedAt);
  if (ms === null || Number.isNaN(start)) return null;
  return start + ms;
}
