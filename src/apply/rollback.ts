/**
 * `bp rollback ENV DEPLOYMENT [--to ENTRY]`: restores the split of an earlier history entry.
 * Like `bp rollout abort` it holds the state lock across the whole read-modify-write and works
 * from recorded state alone: it records the decision (a rollout ended `rolled_back`, see
 * src/plan/rollback.ts), then runs only the deployment's split step, what it depends on
 * (staging and warming a drained revision again before any traffic moves to it) and the drain of
 * the revision that lost the traffic. The history entry names the entry restored.
 */
import { applyMutation, type HistoryEntry } from '../model/state.js';
import { decideRollback } from '../plan/rollback.js';
import { desiredFromRecorded, onlySteps, type ControlRequest } from './rollout-control.js';
import { applyLocked, lockEnvironment, type ApplyOutcome, type EngineContext } from './engine.js';
import { UsageError } from '../model/errors.js';

export type RollbackRequest = Omit<ControlRequest, 'decision'> & { to?: number };

export async function rollbackDeployment(
  ctx: EngineContext,
  req: RollbackRequest,
): Promise<ApplyOutcome & { entry: HistoryEntry; canary: string }> {
  const session = await lockEnvironment(ctx, req.environmentId, { ...req, operation: 'rollback' });
  try {
    const state = session.state;
    if (!state)
      throw new UsageError(`environment "${req.environmentId}" has no recorded state in ${ctx.backend.description}`);
    const decision = decideRollback(state, req.deploymentId, req.to, ctx.clock());
    const base = structuredClone(state);
    await session.begin(base);
    const m = { kind: 'rollout' as const, deployment_id: req.deploymentId, rollout: decision.progress };
    await session.record([m]);
    applyMutation(base, m);
    base.serial += 1;
    base.updated_at = ctx.clock().toISOString();
    await session.checkpoint(base);

    const keep = new Set([`split:${req.deploymentId}`, `drain:${req.deploymentId}/${decision.canary}`]);
    const outcome = await applyLocked(
      ctx,
      {
        ...req,
        operation: 'apply',
        desired: desiredFromRecorded(base, req.deploymentId),
        targets: [req.deploymentId],
        refresh: false,
        confirm: async () => true,
        restrictPlan: (plan) => onlySteps(plan, keep),
        history: req.history && {
          ...req.history,
          operation: 'rollback',
          note: `restored the split of entry #${decision.entry.id}${req.history.note ? `; ${req.history.note}` : ''}`,
        },
      },
      session,
      base,
    );
    return { ...outcome, entry: decision.entry, canary: decision.canary };
  } finally {
    await session.release();
  }
}
