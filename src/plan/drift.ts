/**
 * Drift: what a deployer's `observe` reports against what bp recorded. A ready revision
 * that stopped running is rebuilt (stage + warm, as after a failure); a split changed
 * behind bp's back is re-enforced; revisions bp does not manage are only reported.
 */
import type { Observation } from '../model/deployer.js';
import type { SplitEntry } from '../model/environment.js';
import type { DriftItem } from '../model/plan.js';
import type { RecordedState } from '../model/state.js';
import { sameRouting } from './splits.js';
import { compareIds } from './universe.js';

/** Drift of one recorded-ready revision, with the step reason it implies; null when healthy. */
export function revisionDrift(
  observed: Observation,
  deploymentId: string,
  revisionId: string,
): { item: DriftItem; reason: string } | null {
  const seen = observed.revisions[revisionId];
  if (!seen || !seen.present) {
    return {
      item: {
        deployment_id: deploymentId,
        revision_id: revisionId,
        kind: 'revision_missing',
        message: `revision "${revisionId}" is recorded ready but its deployer does not report it running`,
      },
      reason: 'drift: revision not running',
    };
  }
  if (!seen.healthy) {
    return {
      item: {
        deployment_id: deploymentId,
        revision_id: revisionId,
        kind: 'revision_unhealthy',
        message: `revision "${revisionId}" is recorded ready but its deployer reports it unhealthy`,
      },
      reason: 'drift: revision unhealthy',
    };
  }
  return null;
}

/** A split that differs from the one bp last enforced; null when none is enforced or not observed. */
export function splitDrift(
  observed: Observation,
  deploymentId: string,
  recordedSplit: readonly SplitEntry[],
): DriftItem | null {
  if (recordedSplit.length === 0) return null;
  const seen = observed.splits[deploymentId];
  if (!seen || sameRouting(seen, recordedSplit)) return null;
  return {
    deployment_id: deploymentId,
    revision_id: null,
    kind: 'split_changed',
    message: `traffic split of "${deploymentId}" was changed outside bp (enforced ${describe(recordedSplit)}, observed ${describe(seen)})`,
  };
}

/** Revisions the providers run that recorded state does not know, or has archived. */
export function unmanagedRevisions(
  observed: Observation,
  recorded: RecordedState | null,
  declaredIn: (revisionId: string) => string | undefined,
): DriftItem[] {
  const items: DriftItem[] = [];
  for (const id of Object.keys(observed.revisions).sort(compareIds)) {
    if (!observed.revisions[id].present) continue;
    const rec = recorded?.revisions[id];
    if (rec && rec.lifecycle !== 'archived') continue;
    items.push({
      // An unknown revision has no deployment bp knows of; '' keeps the field a string.
      deployment_id: rec?.deployment_id ?? declaredIn(id) ?? '',
      revision_id: id,
      kind: 'unmanaged_revision',
      message: rec
        ? `revision "${id}" is archived but its deployer still reports it running`
        : `revision "${id}" is running but bp has no record of it`,
    });
  }
  return items;
}

function describe(split: readonly SplitEntry[]): string {
  const live = split.filter((e) => e.weight_bps > 0);
  return live.length === 0 ? 'nothing' : live.map((e) => `${e.revision_id}=${e.weight_bps}`).join(', ');
}
