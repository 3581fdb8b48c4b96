/**
 * A canary whose warm fails cannot take (more) traffic: with `on_failure: rollback` the
 * rollout is recorded as rolled back, with the stable split enforced again when the canary
 * already carried some, so the next plan holds the deployment until the file changes.
 */
import type { DeployerEnvironment } from '../model/deployer.js';
import type { SplitEntry } from '../model/environment.js';
import type { Mutation } from '../model/state.js';
import type { PlanStep } from '../model/plan.js';
import { mutationsOnSuccess, type OutcomeContext } from '../plan/outcome.js';
import { formatSplit, isActive, newProgress } from '../plan/rollout.js';
import { sameRouting, weightOf } from '../plan/splits.js';
import type { ExecuteOptions } from './executor.js';
import { deployerView } from './deployer-env.js';
import { DEFAULT_RETRY, withRetries, withTimeout } from './retry.js';

const SPLIT_TIMEOUT_MS = 5 * 60_000;

export async function rollbackAfterFailedWarm(
  o: ExecuteOptions,
  warm: PlanStep,
  error: string,
  record: (m: Mutation[]) => Promise<void>,
  outcomeCtx: () => OutcomeContext,
): Promise<void> {
  const split = o.plan.steps.find((s) => s.verb === 'apply_traffic_split' && s.deployment_id === warm.deployment_id && s.rollout);
  const planned = split?.rollout;
  if (!split || !planned || planned.canary !== warm.revision_id || planned.on_failure !== 'rollback') return;
  const deploymentId = warm.deployment_id;
  try {
    const recorded = o.state.deployments[deploymentId]?.rollout ?? null;
    const target = split.split!.after;
    const progress =
      !planned.begins && isActive(recorded) && sameRouting(recorded.target, target) ? recorded : newProgress(planned, target, o.clock());
    const enforced = o.state.deployments[deploymentId]?.split ?? [];
    let restored = 'the stable split was never left';
    if (weightOf(enforced, planned.canary) > 0) {
      const resolved = o.resolved.deployments.find((d) => d.deployment_id === deploymentId)!;
      const deployer = await o.deployers.get(resolved.deployer);
      const view = deployerViewWith(o, resolved.deployer, deploymentId, progress.stable);
      await withRetries(
        () => withTimeout((signal) => deployer.applyTrafficSplit(view, deploymentId, { signal }), SPLIT_TIMEOUT_MS, o.kill, `split:${deploymentId}`),
        o.retry ?? DEFAULT_RETRY,
        o.kill,
      );
      const step: PlanStep = { ...split, split: { before: enforced, after: progress.stable } };
      await record(mutationsOnSuccess(step, outcomeCtx(), { applied_entries: progress.stable }));
      restored = `${formatSplit(progress.stable)} restored`;
    }
    const message = `warm of ${planned.canary} failed (${error}); ${restored}`;
    const now = o.clock().toISOString();
    await record([{ kind: 'rollout', deployment_id: deploymentId, rollout: { ...progress, status: 'rolled_back', message, updated_at: now } }]);
    o.emit({ type: 'rollout_rolled_back', deployment_id: deploymentId, canary: planned.canary, message });
  } catch (e) {
    o.emit({ type: 'warning', message: `could not roll back the rollout of ${planned.canary}: ${(e as Error).message}` });
  }
}

/** Built fresh: this path runs at most once per apply. */
function deployerViewWith(o: ExecuteOptions, instance: string, deploymentId: string, entries: SplitEntry[]): DeployerEnvironment {
  return deployerView(o.resolved, o.state, instance, o.baseDir, { deployment_id: deploymentId, entries });
}
