/**
 * Everything the planner has to consider: the deployments of the file in file order, then
 * deployments only recorded state still knows, sorted by id; in each, the declared revisions
 * in file order, then revisions only recorded state still knows, sorted by id.
 */
import type { Deployment, Environment, Revision } from '../model/environment.js';
import type { RecordedDeployment, RecordedRevision, RecordedState } from '../model/state.js';

export interface RevisionSlot {
  revision_id: string;
  desired: Revision | null;
  recorded: RecordedRevision | null;
}

export interface DeploymentUnit {
  deployment_id: string;
  desired: Deployment | null;
  recorded: RecordedDeployment | null;
  slots: RevisionSlot[];
}

export function collectUnits(
  desired: Environment,
  recorded: RecordedState | null,
  destroy: boolean,
  problems: string[],
): DeploymentUnit[] {
  const recordedRevisions = Object.values(recorded?.revisions ?? {});
  const declaredIn = new Map<string, string>();
  const seenDeployments = new Set<string>();
  for (const d of desired.deployments) {
    if (seenDeployments.has(d.deployment_id)) problems.push(`deployment id "${d.deployment_id}" is declared twice`);
    seenDeployments.add(d.deployment_id);
    for (const r of d.revisions) {
      const other = declaredIn.get(r.revision_id);
      if (other !== undefined) {
        problems.push(
          `revision id "${r.revision_id}" is declared twice (deployments "${other}" and "${d.deployment_id}"); revision ids are unique within an environment`,
        );
      } else {
        declaredIn.set(r.revision_id, d.deployment_id);
      }
    }
  }

  // A revision recorded under one deployment but declared under another: ids never move.
  // Under destroy the file's placement does not matter, recorded placement wins.
  const moved = new Set<string>();
  if (!destroy) {
    for (const rec of recordedRevisions) {
      const now = declaredIn.get(rec.revision_id);
      if (now !== undefined && now !== rec.deployment_id) {
        moved.add(rec.revision_id);
        problems.push(
          `revision "${rec.revision_id}" is declared under deployment "${now}" but was recorded under "${rec.deployment_id}"; ` +
            `revision ids never move between deployments, declare a new revision id`,
        );
      }
    }
  }

  const recordedOnlyOf = (deploymentId: string, declared: Set<string>): RevisionSlot[] =>
    recordedRevisions
      .filter((r) => r.deployment_id === deploymentId && !declared.has(r.revision_id) && !moved.has(r.revision_id))
      .sort((a, b) => compareIds(a.revision_id, b.revision_id))
      .map((r) => ({ revision_id: r.revision_id, desired: null, recorded: r }));

  const units: DeploymentUnit[] = [];
  const done = new Set<string>();
  for (const d of desired.deployments) {
    if (done.has(d.deployment_id)) continue;
    done.add(d.deployment_id);
    const slots: RevisionSlot[] = [];
    const declared = new Set<string>();
    for (const r of d.revisions) {
      if (declared.has(r.revision_id)) continue;
      declared.add(r.revision_id);
      const rec = recorded?.revisions[r.revision_id];
      slots.push({
        revision_id: r.revision_id,
        desired: r,
        recorded: rec && rec.deployment_id === d.deployment_id ? rec : null,
      });
    }
    slots.push(...recordedOnlyOf(d.deployment_id, declared));
    units.push({
      deployment_id: d.deployment_id,
      desired: d,
      recorded: recorded?.deployments[d.deployment_id] ?? null,
      slots,
    });
  }

  const recordedOnly = new Set<string>(Object.keys(recorded?.deployments ?? {}));
  for (const r of recordedRevisions) recordedOnly.add(r.deployment_id);
  for (const id of [...recordedOnly].sort(compareIds)) {
    if (done.has(id)) continue;
    units.push({
      deployment_id: id,
      desired: null,
      recorded: recorded?.deployments[id] ?? null,
      slots: recordedOnlyOf(id, new Set()),
    });
  }
  return units;
}

/** Code-unit order, not locale order, so plans are identical on every machine. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
