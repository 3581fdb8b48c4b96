/**
 * Applies a plan to recorded state the way the executor does (intent, then outcome, in
 * dependency order, skipping what depends on a failure), with a fake deployer that always
 * succeeds unless told to fail. Checks the traffic guard at every drain and archive.
 */
import { emptyState, applyMutation, type RecordedState } from '../../src/model/state.js';
import type { Environment } from '../../src/model/environment.js';
import type { Plan, PlanStep } from '../../src/model/plan.js';
import {
  mutationsOnFailure,
  mutationsOnStart,
  mutationsOnSuccess,
  topologicalOrder,
  weightOf,
} from '../../src/plan/index.js';
import { LINEAGE } from './builders.js';

export interface SimulationOptions {
  now: Date;
  /** Steps for which the deployer fails. */
  fails?: (step: PlanStep) => boolean;
  /** Stop after starting this step (a crash): its intent is recorded, its outcome is not. */
  crashAt?: string;
  /** Deployments being torn down, where the guard does not apply. */
  teardown?: (deploymentId: string) => boolean;
}

export interface SimulationResult {
  state: RecordedState;
  succeeded: string[];
  failed: string[];
  skipped: string[];
  guardViolations: string[];
}

export function simulate(
  plan: Plan,
  desired: Environment,
  prior: RecordedState | null,
  o: SimulationOptions,
): SimulationResult {
  const state = structuredClone(prior) ?? emptyState(desired.environment_id, LINEAGE, o.now);
  const ctx = { desired, state, now: o.now, lockId: 'test-lock' };
  const res: SimulationResult = { state, succeeded: [], failed: [], skipped: [], guardViolations: [] };
  const broken = new Set<string>();
  for (const step of topologicalOrder(plan.steps)) {
    if (step.depends_on.some((d) => broken.has(d))) {
      broken.add(step.id);
      res.skipped.push(step.id);
      continue;
    }
    for (const m of mutationsOnStart(step, ctx)) applyMutation(state, m);
    if (step.id === o.crashAt) return res;
    if ((step.verb === 'drain' || step.verb === 'archive') && !o.teardown?.(step.deployment_id)) {
      const enforced = state.deployments[step.deployment_id]?.split ?? [];
      const w = weightOf(enforced, step.revision_id!);
      if (w > 0) res.guardViolations.push(`${step.id} while it carries ${w} bps`);
    }
    if (o.fails?.(step)) {
      for (const m of mutationsOnFailure(step, ctx, { message: `injected failure of ${step.id}` }))
        applyMutation(state, m);
      broken.add(step.id);
      res.failed.push(step.id);
    } else {
      const result =
        step.verb === 'warm'
          ? { endpoint: `http://${step.revision_id}.sim`, outputs: { warmed: true } }
          : step.verb === 'stage'
            ? { outputs: { staged: true } }
            : {};
      for (const m of mutationsOnSuccess(step, ctx, result)) applyMutation(state, m);
      res.succeeded.push(step.id);
    }
  }
  return res;
}
