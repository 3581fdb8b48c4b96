/**
 * The planner: a pure function from (desired environment, recorded state, now, observation)
 * to a plan, a DAG of deployer verbs (docs/design.md#plan-json). No I/O, no clock, no randomness:
 * the same input always gives a deep-equal plan.
 */
import type { Observation } from '../model/deployer.js';
import type { Environment } from '../model/environment.js';
import { PlanError } from '../model/errors.js';
import {
  PLAN_FORMAT,
  summarize,
  type DriftItem,
  type ExpiredRevision,
  type Plan,
  type PlanStep,
  type RolloutNotice,
  type SecretUpdate,
} from '../model/plan.js';
import type { RecordedState } from '../model/state.js';
import { dagProblems } from './dag.js';
import { planDeployment, type PlanContext } from './deployment-plan.js';
import { unmanagedRevisions } from './drift.js';
import { environmentUpdateStep } from './settings.js';
import { collectUnits, compareIds } from './universe.js';

export interface PlanInput {
  /** Normalized by spec (defaults filled, `${env:..}` unresolved). */
  desired: Environment;
  /** null = nothing recorded yet. */
  recorded: RecordedState | null;
  now: Date;
  /** Merged `observe()` of all deployers; null/undefined = refresh skipped. */
  observed?: Observation | null;
  /** `--target` deployment ids; empty/undefined = all. */
  targets?: string[];
  /** `bp destroy`: tear down everything. */
  destroy?: boolean;
  /** `FILE:LINE:COL` of a path in the env file, so messages point at the line to change. */
  locate?: (path: Array<string | number>) => string | null;
  /**
   * Per deployer instance name: its plugin's `weightGranularityBps` (absent: 1), so split
   * steps show the split the provider will really enforce.
   */
  weightGranularityBps?: Record<string, number>;
  /**
   * The version id each secret store has now, per revision and reference text, for the
   * references recorded in `secret_versions` (asked during refresh); absent = not asked.
   */
  secretVersions?: Record<string, Record<string, string>> | null;
}

/** Throws PlanError listing every problem found, not only the first. */
export function plan(input: PlanInput): Plan {
  const { desired, recorded } = input;
  const destroy = input.destroy === true;
  const targets = [...new Set(input.targets ?? [])].sort(compareIds);
  const problems: string[] = [];

  if (recorded && recorded.environment_id !== desired.environment_id) {
    problems.push(
      `recorded state belongs to environment "${recorded.environment_id}", not "${desired.environment_id}"`,
    );
  }
  const units = collectUnits(desired, recorded, destroy, problems);
  const known = new Set(units.map((u) => u.deployment_id));
  for (const t of targets) {
    if (!known.has(t)) problems.push(`target "${t}" is not a deployment of the file or of recorded state`);
  }
  // Like Terraform's -target, problems of deployments outside the targets do not block the plan.
  const inScope = (deploymentId: string) => targets.length === 0 || targets.includes(deploymentId);

  const ctx: PlanContext = {
    desired,
    recorded,
    now: input.now,
    observed: input.observed ?? null,
    destroy,
    locate: input.locate,
    weightGranularityBps: input.weightGranularityBps ?? {},
  };
  const environmentStep = environmentUpdateStep(desired, recorded, { destroy, targets });
  const steps: PlanStep[] = environmentStep ? [environmentStep] : [];
  const drift: DriftItem[] = [];
  const expired: ExpiredRevision[] = [];
  const rollouts: RolloutNotice[] = [];
  for (const unit of units) {
    const unitProblems: string[] = [];
    const part = planDeployment(unit, ctx, unitProblems);
    if (!inScope(unit.deployment_id)) continue;
    problems.push(...unitProblems);
    steps.push(...part.steps);
    drift.push(...part.drift);
    expired.push(...part.expired);
    if (part.rollout) rollouts.push(part.rollout);
  }
  if (ctx.observed) {
    const declaredIn = new Map<string, string>();
    for (const d of desired.deployments) for (const r of d.revisions) declaredIn.set(r.revision_id, d.deployment_id);
    for (const item of unmanagedRevisions(ctx.observed, recorded, (id) => declaredIn.get(id))) {
      if (inScope(item.deployment_id)) drift.push(item);
    }
  }

  if (problems.length === 0) {
    // A self-check: a malformed graph here is a planner bug, reported rather than executed.
    problems.push(...dagProblems(steps).map((p) => `internal: ${p}`));
  }
  if (problems.length > 0) throw new PlanError(problems);
  const secretUpdates = newerSecrets(recorded, input.secretVersions ?? null, inScope);

  return {
    format_version: PLAN_FORMAT,
    environment_id: desired.environment_id,
    prior: { lineage: recorded?.lineage ?? null, serial: recorded?.serial ?? 0 },
    changes: steps.length > 0,
    steps,
    summary: summarize(steps),
    drift,
    expired,
    targets,
    destroy,
    rollouts,
    ...(secretUpdates.length > 0 ? { secret_updates: secretUpdates } : {}),
  };
}

/** Live revisions whose recorded secret version differs from the store's current one. */
export function newerSecrets(
  recorded: RecordedState | null,
  current: Record<string, Record<string, string>> | null,
  inScope: (deploymentId: string) => boolean = () => true,
): SecretUpdate[] {
  if (!recorded || !current) return [];
  const out: SecretUpdate[] = [];
  for (const id of Object.keys(recorded.revisions).sort(compareIds)) {
    const rec = recorded.revisions[id];
    if (rec.lifecycle === 'archived' || !rec.secret_versions || !inScope(rec.deployment_id)) continue;
    const now = current[id] ?? {};
    for (const reference of Object.keys(rec.secret_versions).sort()) {
      const was = rec.secret_versions[reference];
      const is = now[reference];
      if (is !== undefined && is !== was)
        out.push({
          deployment_id: rec.deployment_id,
          revision_id: id,
          reference,
          recorded_version: was,
          current_version: is,
        });
    }
  }
  return out;
}
