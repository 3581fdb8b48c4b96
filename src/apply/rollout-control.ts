/**
 * `bp rollout promote` and `bp rollout abort`: the operator's decisions on a rollout in
 * progress. Each takes the state lock once and holds it across the whole read-modify-write:
 * it records the decision, then carries it out from recorded state alone (no env file: the
 * recorded deployer instances, revisions and rollout say everything needed), touching only
 * the deployment's split (and, for abort, its canary). No other writer can slip in between.
 */
import { ENVIRONMENT_SCHEMA, type Environment, type Revision } from '../model/environment.js';
import { BpError, UsageError } from '../model/errors.js';
import { summarize, type Plan } from '../model/plan.js';
import { applyMutation, type RecordedState, type RolloutProgress } from '../model/state.js';
import { isActive } from '../plan/rollout.js';
import { copySplit } from '../plan/splits.js';
import type { StateSession } from '../state/backend.js';
import { applyLocked, lockEnvironment, type ApplyOutcome, type ApplyRequest, type EngineContext } from './engine.js';

export type OperatorDecision = { kind: 'promote'; full: boolean } | { kind: 'abort' };

export type ControlRequest = Omit<
  ApplyRequest,
  'desired' | 'operation' | 'targets' | 'destroy' | 'savedPlan' | 'restrictPlan' | 'confirm'
> & {
  environmentId: string;
  deploymentId: string;
  decision: OperatorDecision;
};

export async function controlRollout(
  ctx: EngineContext,
  req: ControlRequest,
): Promise<ApplyOutcome & { progress: RolloutProgress }> {
  const operation = `rollout ${req.decision.kind}`;
  const session = await lockEnvironment(ctx, req.environmentId, { ...req, operation });
  try {
    const { progress, state } = await recordDecision(ctx, req, session);
    const desired = desiredFromRecorded(state, req.deploymentId);
    const keep = new Set([`split:${req.deploymentId}`]);
    if (req.decision.kind === 'abort') keep.add(`drain:${req.deploymentId}/${progress.canary}`);
    const outcome = await applyLocked(
      ctx,
      {
        ...req,
        operation: 'apply',
        desired,
        targets: [req.deploymentId],
        refresh: false,
        confirm: async () => true,
        restrictPlan: (plan) => onlySteps(plan, keep),
      },
      session,
      state,
    );
    const after = outcome.state?.deployments[req.deploymentId]?.rollout ?? progress;
    return { ...outcome, progress: after };
  } finally {
    await session.release();
  }
}

/** Records promote (a flag the rollout consumes) or abort (status aborted) in the held session. */
async function recordDecision(
  ctx: EngineContext,
  req: ControlRequest,
  session: StateSession,
): Promise<{ progress: RolloutProgress; state: RecordedState }> {
  const state = session.state;
  if (!state)
    throw new UsageError(`environment "${req.environmentId}" has no recorded state in ${ctx.backend.description}`);
  const d = state.deployments[req.deploymentId];
  if (!d) throw new UsageError(`environment "${req.environmentId}" has no deployment "${req.deploymentId}"`);
  const p = d.rollout ?? null;
  if (!isActive(p)) {
    const last =
      p !== null
        ? ` (its last rollout, of ${(p as RolloutProgress).canary}, is ${(p as RolloutProgress).status.replace('_', ' ')})`
        : '';
    throw new BpError(
      'Usage',
      `deployment "${req.deploymentId}" has no rollout in progress${last}; nothing to ${req.decision.kind}`,
    );
  }
  const now = ctx.clock().toISOString();
  const next: RolloutProgress =
    req.decision.kind === 'promote'
      ? {
          ...p,
          promoted: req.decision.full ? 'full' : 'step',
          status: p.status === 'halted' ? 'progressing' : p.status,
          message: `promoted${req.decision.full ? ' fully' : ''} by an operator`,
          updated_at: now,
        }
      : {
          ...p,
          status: 'aborted',
          promoted: null,
          pause_until: null,
          message: `aborted by an operator at step ${Math.min(p.step + 1, p.steps.length)}/${p.steps.length}`,
          updated_at: now,
        };
  const base = structuredClone(state);
  await session.begin(base);
  const m = { kind: 'rollout' as const, deployment_id: req.deploymentId, rollout: next };
  await session.record([m]);
  applyMutation(base, m);
  base.serial += 1;
  base.updated_at = now;
  await session.checkpoint(base);
  return { progress: next, state: base };
}

/**
 * The environment as recorded state knows it, for one deployment: its deployer, live
 * revisions (ready ones desired ready), and the split its rollout moves to.
 */
export function desiredFromRecorded(state: RecordedState, deploymentId: string): Environment {
  const d = state.deployments[deploymentId];
  const p = d.rollout!;
  const revisions: Revision[] = Object.values(state.revisions)
    .filter((r) => r.deployment_id === deploymentId && r.lifecycle !== 'archived' && r.spec !== null)
    .sort((a, b) => (a.revision_id < b.revision_id ? -1 : a.revision_id > b.revision_id ? 1 : 0))
    .map((r) => ({
      revision_id: r.revision_id,
      artifact: structuredClone(r.spec!.artifact),
      resources: { ...r.spec!.resources },
      health: { ...r.spec!.health },
      drain_seconds: r.drain_seconds,
      ttl: r.ttl,
      state: r.lifecycle === 'ready' || r.revision_id === p.canary ? 'ready' : 'inactive',
    }));
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: state.environment_id,
    deployers: { [d.deployer]: structuredClone(state.deployers[d.deployer]) },
    deployments: [
      {
        deployment_id: deploymentId,
        deployer: d.deployer,
        listen: d.listen,
        metrics_listen: d.metrics_listen ?? null,
        revisions,
        traffic: copySplit(p.target),
        // The strategy as last applied (what the next rollout walks); the running one keeps `p.steps`.
        rollout:
          d.rollout_strategy !== undefined
            ? structuredClone(d.rollout_strategy)
            : { steps: structuredClone(p.steps), on_failure: p.on_failure },
      },
    ],
    notifications: [],
  };
}

/**
 * The plan narrowed to `keep` and everything those steps depend on (transitively), so the
 * narrowed plan is closed: a kept step never runs without its prerequisites.
 */
export function onlySteps(plan: Plan, keep: ReadonlySet<string>): Plan {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const wanted = new Set<string>();
  const stack = [...keep].filter((id) => byId.has(id));
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (wanted.has(id)) continue;
    wanted.add(id);
    for (const d of byId.get(id)!.depends_on) stack.push(d);
  }
  const steps = plan.steps.filter((s) => wanted.has(s.id));
  return { ...plan, steps, summary: summarize(steps), changes: steps.length > 0 };
}
