/**
 * Plans one deployment: a target per revision, the verb chain from its current lifecycle,
 * the split step, and the edges that keep traffic safe (the guard: a revision carrying
 * traffic is only drained or archived after a split that takes its traffic away, except
 * when the whole deployment is being torn down).
 */
import type { Observation } from '../model/deployer.js';
import type { Environment, Revision, SplitEntry } from '../model/environment.js';
import { BpError } from '../model/errors.js';
import {
  stepId,
  type DriftItem,
  type FieldChange,
  type ExpiredRevision,
  type PlanStep,
  type RevisionVerb,
  type RolloutNotice,
} from '../model/plan.js';
import type { LifecycleState, RecordedState } from '../model/state.js';
import { revisionDrift, splitDrift } from './drift.js';
import { specOf } from './immutability.js';
import { deploysOf, describeChanges, neverReady, settingChanges, specChanges } from './review.js';
import { chainFor, isAllowedVerb, VERB_RULES, type TargetLifecycle } from './lifecycle.js';
import { resumeReason, revisionReason, rolloutReason, splitReason } from './reasons.js';
import { decideRollout, type RolloutDecision } from './rollout.js';
import { copySplit, sameSplitOrdered, weightOf } from './splits.js';
import { decideTarget } from './targets.js';
import { strategyUpdateStep } from './settings.js';
import { enforcedAtGranularity } from '../model/weights.js';
import { compareIds, type DeploymentUnit, type RevisionSlot } from './universe.js';

export interface PlanContext {
  desired: Environment;
  recorded: RecordedState | null;
  now: Date;
  observed: Observation | null;
  destroy: boolean;
  /** `FILE:LINE:COL` of a path in the env file, for messages (absent: paths only). */
  locate?: (path: Array<string | number>) => string | null;
  /** Per deployer instance: the resolution of its provider's weights in bps (absent: 1). */
  weightGranularityBps?: Record<string, number>;
}

export interface DeploymentPlan {
  steps: PlanStep[];
  drift: DriftItem[];
  expired: ExpiredRevision[];
  rollout: RolloutNotice | null;
}

interface SlotPlan {
  slot: RevisionSlot;
  target: TargetLifecycle;
  current: LifecycleState;
  verbs: readonly RevisionVerb[];
  reason: string;
  /** A never-ready revision whose spec changed: staged again with these changes. */
  replaces: FieldChange[] | null;
  /** Mutable settings to record through an `update` step. */
  settings: FieldChange[];
}

const isTeardownVerb = (v: RevisionVerb): boolean => v === 'drain' || v === 'archive';

export function planDeployment(declaredUnit: DeploymentUnit, ctx: PlanContext, problems: string[]): DeploymentPlan {
  const drift: DriftItem[] = [];
  const expired: ExpiredRevision[] = [];
  if (!ctx.destroy) checkConsistency(declaredUnit, ctx, problems);
  const rollout = decideRollout(declaredUnit.desired, declaredUnit.recorded, ctx.destroy, ctx.now);
  const unit = withRolloutOverrides(declaredUnit, rollout);

  const before: readonly SplitEntry[] = unit.recorded?.split ?? [];
  const after: readonly SplitEntry[] = unit.desired?.traffic ?? [];
  const rounding = enforcedRounding(unit, after, ctx);

  const slotPlans = unit.slots.map((slot) => planSlot(unit, slot, ctx, { before, after, drift, expired, problems }));

  // Taking the whole deployment down: nothing will route to it, so its routing is not
  // re-enforced and its revisions may go even while the last enforced split names them.
  const teardown =
    ctx.destroy || unit.desired === null || (after.length === 0 && !slotPlans.some((p) => p.target === 'ready'));

  const driftedSplit = ctx.observed ? splitDrift(ctx.observed, unit.deployment_id, before) : null;
  if (driftedSplit) drift.push(driftedSplit);
  const warmed = new Set(slotPlans.filter((p) => p.verbs.includes('warm')).map((p) => p.slot.revision_id));
  const listenChanged =
    unit.recorded !== null &&
    unit.desired !== null &&
    (unit.recorded.listen !== unit.desired.listen ||
      (unit.recorded.metrics_listen ?? null) !== (unit.desired.metrics_listen ?? null));
  const pending = ctx.recorded?.pending ?? {};
  const splitId = stepId('apply_traffic_split', unit.deployment_id, null);
  const needSplit =
    !teardown &&
    after.length > 0 &&
    // Recorded state holds the enforced split: a rounded split already enforced is no change.
    ((!sameSplitOrdered(before, after) && !(rounding && sameSplitOrdered(before, rounding.enforced))) ||
      rollout.planned !== null ||
      driftedSplit !== null ||
      listenChanged ||
      // An interrupted split may be half-applied at the provider: enforce it again.
      pending[splitId] !== undefined ||
      after.some((e) => e.weight_bps > 0 && warmed.has(e.revision_id)));

  if (!teardown) checkTrafficSafety(unit, slotPlans, before, after, needSplit, problems);

  const chains = slotPlans.map((p) =>
    chainSteps(unit.deployment_id, p, {
      dependsOnSplit: needSplit && weightOf(before, p.slot.revision_id) > 0,
      splitId,
      pending,
    }),
  );

  const steps: PlanStep[] = [];
  for (const chain of chains) steps.push(...chain.filter((s) => s.verb === 'stage' || s.verb === 'warm'));
  for (const p of slotPlans) {
    if (p.settings.length === 0) continue;
    steps.push({
      id: stepId('update', unit.deployment_id, p.slot.revision_id),
      verb: 'update',
      deployment_id: unit.deployment_id,
      revision_id: p.slot.revision_id,
      depends_on: [],
      reason: `settings changed: ${describeChanges(p.settings)}`,
      changes: p.settings,
    });
  }
  const strategy = strategyUpdateStep(declaredUnit.desired, declaredUnit.recorded, ctx.destroy);
  if (strategy) steps.push(strategy);
  if (needSplit) {
    const deps = after
      .filter((e) => e.weight_bps > 0 && warmed.has(e.revision_id))
      .map((e) => stepId('warm', unit.deployment_id, e.revision_id));
    steps.push({
      id: splitId,
      verb: 'apply_traffic_split',
      deployment_id: unit.deployment_id,
      revision_id: null,
      depends_on: [...new Set(deps)].sort(compareIds),
      reason: rollout.planned
        ? rolloutReason(rollout.planned, rollout.notice)
        : pending[splitId]
          ? resumeReason('apply_traffic_split')
          : splitReason({ before, after, drifted: driftedSplit !== null, listenChanged }),
      split: {
        before: copySplit(before),
        after: copySplit(after),
        ...(rounding ? { enforced: rounding.enforced, granularity_bps: rounding.granularity } : {}),
      },
      ...(rollout.planned ? { rollout: rollout.planned } : {}),
    });
  }
  for (const chain of chains) steps.push(...chain.filter((s) => s.verb === 'drain' || s.verb === 'archive'));
  return { steps, drift, expired, rollout: rollout.notice };
}

/** The split the deployment's provider will really enforce, when it rounds `after` (else null). */
function enforcedRounding(
  unit: DeploymentUnit,
  after: readonly SplitEntry[],
  ctx: PlanContext,
): { enforced: SplitEntry[]; granularity: number } | null {
  const granularity = unit.desired ? (ctx.weightGranularityBps?.[unit.desired.deployer] ?? 1) : 1;
  if (granularity <= 1 || after.length === 0) return null;
  const enforced = enforcedAtGranularity(after, granularity);
  return sameSplitOrdered(enforced, after) ? null : { enforced, granularity };
}

/** The unit as the rollout decision sees it: its split, and the lifecycles it holds. */
function withRolloutOverrides(unit: DeploymentUnit, decision: RolloutDecision): DeploymentUnit {
  if (unit.desired === null) return unit;
  const held = Object.keys(decision.hold).length > 0;
  if (!held && sameSplitOrdered(decision.after, unit.desired.traffic)) return unit;
  // A held state is decided, not defaulted.
  const hold = (r: Revision): Revision => {
    const held = decision.hold[r.revision_id];
    if (!held) return r;
    const { state_defaulted: _defaulted, ...rest } = r;
    return { ...rest, state: held };
  };
  return {
    ...unit,
    desired: { ...unit.desired, traffic: decision.after, revisions: unit.desired.revisions.map(hold) },
    slots: unit.slots.map((slot) => (slot.desired ? { ...slot, desired: hold(slot.desired) } : slot)),
  };
}

/** Target, current lifecycle (drift-adjusted) and verb chain of one revision. */
function planSlot(
  unit: DeploymentUnit,
  slot: RevisionSlot,
  ctx: PlanContext,
  acc: {
    before: readonly SplitEntry[];
    after: readonly SplitEntry[];
    drift: DriftItem[];
    expired: ExpiredRevision[];
    problems: string[];
  },
): SlotPlan {
  const decision = decideTarget(unit, slot, ctx.now, ctx.destroy);
  if (decision.expired) acc.expired.push(decision.expired);
  let current: LifecycleState = slot.recorded?.lifecycle ?? 'inactive';
  let driftReason: string | null = null;
  if (ctx.observed && slot.recorded?.lifecycle === 'ready' && decision.target === 'ready') {
    const found = revisionDrift(ctx.observed, unit.deployment_id, slot.revision_id);
    if (found) {
      acc.drift.push(found.item);
      // ready -> failed is an allowed transition; from there the usual retry chain rebuilds it.
      current = 'failed';
      driftReason = found.reason;
    }
  }
  let replaces: FieldChange[] | null = null;
  if (
    slot.desired &&
    slot.recorded?.spec &&
    decision.target === 'ready' &&
    current !== 'archived' &&
    neverReady(slot.recorded)
  ) {
    const changed = specChanges(slot.recorded.spec, specOf(slot.desired));
    if (changed.length > 0) {
      // It never served: stage it again with the new spec instead of demanding a new id.
      replaces = changed;
      current = 'failed';
      driftReason = 'replace: changed before it ever was ready';
    }
  }
  let verbs: readonly RevisionVerb[];
  if (slot.recorded === null && decision.target !== 'ready') {
    verbs = []; // never created, nothing to take down
  } else if (current === 'archived' && decision.target !== 'archived') {
    // An expired revision that was archived stays archived quietly: the TTL did its job.
    if (!decision.ttlExpired) {
      acc.problems.push(`revision "${slot.revision_id}" is archived, which is final; declare a new revision id`);
    }
    verbs = [];
  } else {
    verbs = chainFor(current, decision.target) ?? [];
  }
  const reason = revisionReason({
    revisionId: slot.revision_id,
    recorded: slot.recorded,
    current,
    target: decision.target,
    archiveReason: decision.archiveReason,
    driftReason,
    before: acc.before,
    after: acc.after,
  });
  const settings =
    slot.desired &&
    slot.recorded &&
    current !== 'archived' &&
    decision.target !== 'archived' &&
    !verbs.includes('stage')
      ? settingChanges(slot.recorded, slot.desired)
      : [];
  return { slot, target: decision.target, current, verbs, reason, replaces, settings };
}

function chainSteps(
  deploymentId: string,
  p: SlotPlan,
  o: { dependsOnSplit: boolean; splitId: string; pending: Record<string, unknown> },
): PlanStep[] {
  const out: PlanStep[] = [];
  let from = p.current;
  let prev: string | null = null;
  let firstTeardown = true;
  for (const verb of p.verbs) {
    if (!isAllowedVerb(verb, from)) {
      throw new BpError('Internal', `planner bug: ${verb} from ${from} for revision ${p.slot.revision_id}`);
    }
    const id = stepId(verb, deploymentId, p.slot.revision_id);
    const deps: string[] = prev ? [prev] : [];
    if (isTeardownVerb(verb) && firstTeardown) {
      firstTeardown = false;
      if (o.dependsOnSplit) deps.push(o.splitId);
    }
    const to = VERB_RULES[verb].to;
    const review =
      verb === 'stage' && p.slot.desired
        ? { deploys: deploysOf(p.slot.desired), ...(p.replaces ? { changes: p.replaces } : {}) }
        : {};
    out.push({
      id,
      verb,
      deployment_id: deploymentId,
      revision_id: p.slot.revision_id,
      depends_on: deps.sort(compareIds),
      reason: o.pending[id] ? resumeReason(verb) : p.reason,
      from,
      to,
      ...review,
    });
    prev = id;
    from = to;
  }
  return out;
}

/**
 * The guard, plus its mirror: traffic only ever goes to revisions that end the plan ready.
 * Spec validation normally rejects such files; these catch what slips through (or a state
 * that moved on since validation).
 */
function checkTrafficSafety(
  unit: DeploymentUnit,
  slotPlans: SlotPlan[],
  before: readonly SplitEntry[],
  after: readonly SplitEntry[],
  needSplit: boolean,
  problems: string[],
): void {
  const flagged = new Set<string>();
  for (const p of slotPlans) {
    const id = p.slot.revision_id;
    const carried = weightOf(before, id);
    if (carried > 0 && p.verbs.some(isTeardownVerb) && !(needSplit && weightOf(after, id) === 0)) {
      flagged.add(id);
      problems.push(
        `revision "${id}" carries ${carried} bps of the traffic of "${unit.deployment_id}" and cannot be drained or archived; ` +
          `give it weight 0 in traffic first`,
      );
    }
  }
  for (const e of after) {
    if (e.weight_bps <= 0 || flagged.has(e.revision_id)) continue;
    const p = slotPlans.find((x) => x.slot.revision_id === e.revision_id);
    if (!p) {
      problems.push(
        `traffic of "${unit.deployment_id}" names revision "${e.revision_id}", which is not one of its revisions`,
      );
      continue;
    }
    const final = p.verbs.length > 0 ? VERB_RULES[p.verbs[p.verbs.length - 1]].to : p.current;
    if (final !== 'ready') {
      problems.push(
        `traffic of "${unit.deployment_id}" gives ${e.weight_bps} bps to revision "${e.revision_id}", which would be ${final}; ` +
          `only ready revisions receive traffic`,
      );
    }
  }
}

function checkConsistency(unit: DeploymentUnit, ctx: PlanContext, problems: string[]): void {
  const live = unit.slots
    .filter((s) => s.recorded !== null && s.recorded.lifecycle !== 'archived')
    .map((s) => s.revision_id);
  if (unit.desired && unit.recorded && live.length > 0) {
    const was = unit.recorded.deployer;
    const now = unit.desired.deployer;
    const wasType = ctx.recorded?.deployers[was]?.type;
    const nowType = ctx.desired.deployers[now]?.type;
    if (was !== now) {
      problems.push(
        `deployment "${unit.deployment_id}" changed deployer from "${was}" to "${now}" while revisions ${quoteList(live)} are not archived; ` +
          `archive them first or declare a new deployment id`,
      );
    } else if (wasType !== undefined && nowType !== undefined && wasType !== nowType) {
      problems.push(
        `deployer "${now}" of deployment "${unit.deployment_id}" changed type from "${wasType}" to "${nowType}" while revisions ` +
          `${quoteList(live)} are not archived; archive them first or declare a new deployer name`,
      );
    }
  }
  for (const slot of unit.slots) {
    if (!slot.desired || !slot.recorded?.spec || neverReady(slot.recorded)) continue;
    const changes = specChanges(slot.recorded.spec, specOf(slot.desired));
    if (changes.length === 0) continue;
    const where = locateField(ctx, unit.deployment_id, slot.revision_id, changes[0]!.field);
    problems.push(
      `${where ? `${where}: ` : ''}revision "${slot.revision_id}" changed ${describeChanges(changes)}, but it has been ready ` +
        `and a revision that served is immutable; declare a new revision id for the change`,
    );
  }
}

/** `env.yaml:31:11` of a revision's field, when the caller can locate paths in the file. */
function locateField(ctx: PlanContext, deploymentId: string, revisionId: string, field: string): string | null {
  if (!ctx.locate) return null;
  const d = ctx.desired.deployments.findIndex((x) => x.deployment_id === deploymentId);
  const r = d < 0 ? -1 : ctx.desired.deployments[d]!.revisions.findIndex((x) => x.revision_id === revisionId);
  if (r < 0) return null;
  return ctx.locate(['deployments', d, 'revisions', r, ...field.split('.')]);
}

function quoteList(ids: string[]): string {
  return ids.map((id) => `"${id}"`).join(', ');
}
