/** Human summary of recorded state (`bp state show`). */
import type { LockInfo } from '../../model/errors.js';
import type { RecordedState } from '../../model/state.js';

export function renderStateSummary(state: RecordedState, lock: LockInfo | null): string {
  const out = [
    `environment: ${state.environment_id}`,
    `lineage:     ${state.lineage}`,
    `serial:      ${state.serial}`,
    `updated:     ${state.updated_at}`,
    `lock:        ${lock ? `held by ${lock.user}@${lock.host} pid ${lock.pid} (${lock.operation}, id ${lock.id})` : 'free'}`,
  ];
  const pending = Object.values(state.pending);
  if (pending.length > 0) out.push(`interrupted: ${pending.map((p) => p.step_id).join(', ')}`);
  for (const id of Object.keys(state.deployments).sort()) {
    const d = state.deployments[id];
    out.push('', `deployment ${id} (deployer ${d.deployer}${d.listen ? `, listen ${d.listen}` : ''})`);
    const split = d.split.map((e) => `${e.revision_id} ${(e.weight_bps / 100).toFixed(2)}%`).join(', ');
    out.push(`  split: ${split || '(none)'}`);
    if (d.rollout)
      out.push(`  rollout of ${d.rollout.canary}: ${d.rollout.status.replace('_', ' ')}: ${d.rollout.message}`);
    for (const r of Object.values(state.revisions)
      .filter((x) => x.deployment_id === id)
      .sort((a, b) => a.revision_id.localeCompare(b.revision_id))) {
      out.push(
        `  ${r.revision_id.padEnd(24)} ${r.lifecycle.padEnd(9)} ${r.endpoint ?? ''}${r.last_error ? `  last error: ${r.last_error}` : ''}`,
      );
    }
  }
  return out.join('\n');
}
