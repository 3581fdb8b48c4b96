/**
 * `bp state rm`: what recorded state looks like once bp forgets an environment, a deployment
 * or a revision. Pure. Forgetting never touches the provider: whatever still runs there keeps
 * running, unmanaged, which is why live (not archived) revisions are named to the caller.
 */
import { BpError } from '../model/errors.js';
import type { RecordedState } from '../model/state.js';

export interface Forgotten {
  state: RecordedState;
  deployments: string[];
  revisions: string[];
  /** Forgotten revisions that are not archived: they may still run at the provider. */
  live: string[];
}

/** `target`: a deployment id or a revision id; absent: everything the environment records. */
export function forget(state: RecordedState, target: string | undefined, now: Date): Forgotten {
  const next = structuredClone(state);
  let deployments: string[];
  let revisions: string[];
  if (target === undefined) {
    deployments = Object.keys(next.deployments);
    revisions = Object.keys(next.revisions);
  } else if (next.deployments[target]) {
    deployments = [target];
    revisions = Object.values(next.revisions)
      .filter((r) => r.deployment_id === target)
      .map((r) => r.revision_id);
  } else if (next.revisions[target]) {
    deployments = [];
    revisions = [target];
  } else {
    throw new BpError(
      'Usage',
      `environment "${state.environment_id}" records no deployment or revision "${target}"; see bp state show ${state.environment_id}`,
    );
  }
  const live = revisions.filter((id) => next.revisions[id]!.lifecycle !== 'archived').sort();
  for (const id of deployments) delete next.deployments[id];
  for (const id of revisions) {
    const r = next.revisions[id]!;
    delete next.revisions[id];
    const d = next.deployments[r.deployment_id];
    if (d) d.split = d.split.filter((e) => e.revision_id !== id);
    for (const stepId of Object.keys(next.pending)) if (stepId.endsWith(`/${id}`)) delete next.pending[stepId];
  }
  for (const id of deployments) {
    for (const stepId of Object.keys(next.pending))
      if (stepId.endsWith(`:${id}`) || stepId.includes(`:${id}/`)) delete next.pending[stepId];
  }
  if (target === undefined) {
    next.deployers = {};
    next.pending = {};
  }
  next.updated_at = now.toISOString();
  return { state: next, deployments: deployments.sort(), revisions: revisions.sort(), live };
}
