/** The runtime config (docs/design.md#runtime-config): a pure projection of recorded state. */
import type { RuntimeConfig } from './deployer.js';
import { FULL_WEIGHT_BPS } from './environment.js';
import type { RecordedState } from './state.js';

/**
 * One entry per enforced split entry, in split order. Deployments without an enforced
 * split (nothing routed yet, or being torn down) are left out so every deployment listed
 * sums to exactly 10000.
 */
export function projectRuntimeConfig(state: RecordedState): RuntimeConfig {
  const revisions: RuntimeConfig['revisions'] = [];
  for (const id of Object.keys(state.deployments).sort()) {
    const d = state.deployments[id];
    const sum = d.split.reduce((a, e) => a + e.weight_bps, 0);
    if (d.split.length === 0 || sum !== FULL_WEIGHT_BPS) continue;
    for (const e of d.split) {
      revisions.push({
        deployment_id: id,
        revision_id: e.revision_id,
        weight_bps: e.weight_bps,
        endpoint: state.revisions[e.revision_id]?.endpoint ?? null,
      });
    }
  }
  return { format_version: 'bp.runtime-config/v1', environment_id: state.environment_id, revisions };
}
