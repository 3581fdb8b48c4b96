/** The plan (docs/design.md#plan-json): a DAG of deployer verbs, plus what the planner noticed. */
import type { Environment, RolloutStep, SplitEntry } from './environment.js';
import type { LifecycleState, RolloutStatus } from './state.js';

export const PLAN_FORMAT = 'bp.plan/v1' as const;

/**
 * `update` is bp's own verb, not a deployer's: it records mutable settings when only they changed,
 * so later operations use the new values. Three scopes (docs/design.md#update-steps):
 * a revision's (ttl, drain_seconds, health timeout: `update:DEPLOYMENT/REVISION`), a deployment's
 * rollout strategy (`update:DEPLOYMENT`) and the environment's notifications (`update:@environment`,
 * `deployment_id` "").
 */
export type Verb = 'stage' | 'warm' | 'drain' | 'archive' | 'apply_traffic_split' | 'update';
export const VERBS: readonly Verb[] = ['stage', 'warm', 'update', 'apply_traffic_split', 'drain', 'archive'];
/** The verbs that move a revision through its lifecycle (deployer calls). */
export type RevisionVerb = Exclude<Verb, 'apply_traffic_split' | 'update'>;

/** One field a step changes: dotted path in the revision, value before and after (secrets masked). */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** What a stage step deploys, for review (env values masked when their name says secret). */
export interface StepDeploys {
  image?: string;
  command?: string[];
  binary?: string;
  env: Record<string, string>;
  resources: { cpu: number; memory_mb: number; replicas: number; gpu: number; max_replicas?: number };
  health: { http_path: string; timeout_seconds: number };
  drain_seconds: number;
  ttl: string | null;
}

/** `deployment_id` of a step about the environment as a whole (the notifications update). */
export const ENVIRONMENT_SCOPE = '';

export interface PlanStep {
  /**
   * `VERB:DEPLOYMENT/REVISION` for revision verbs, `split:DEPLOYMENT` for splits,
   * `update:DEPLOYMENT` for a deployment's settings and `update:@environment` for the environment's.
   */
  id: string;
  verb: Verb;
  deployment_id: string;
  revision_id: string | null;
  depends_on: string[];
  reason: string;
  /** Lifecycle before the step and after it succeeds (revision verbs only). */
  from?: LifecycleState;
  to?: LifecycleState;
  /**
   * Split steps: the split before and the one asked for; `enforced` (with the provider's
   * `granularity_bps`) when the deployer's weights cannot express `after` and will round it.
   */
  split?: { before: SplitEntry[]; after: SplitEntry[]; enforced?: SplitEntry[]; granularity_bps?: number };
  /** A split step that walks a rollout's steps to `split.after` instead of jumping there. */
  rollout?: PlannedRollout;
  /** Stage steps: what the revision runs. */
  deploys?: StepDeploys;
  /** Update steps, and stage steps replacing a never-ready revision: each field's old -> new. */
  changes?: FieldChange[];
  /**
   * What a reviewer should know beyond the changes, one sentence (a strategy change while a rollout
   * is in progress: that rollout keeps its steps, the next one walks the new strategy).
   */
  note?: string;
}

export interface PlannedRollout {
  canary: string;
  /** True when this apply begins the rollout; false when it continues a recorded one. */
  begins: boolean;
  /** The split rollback and abort return to. */
  stable: SplitEntry[];
  steps: RolloutStep[];
  on_failure: 'rollback' | 'pause';
  /** The step this apply starts at. */
  from_step: number;
}

/** What `bp plan` says about a deployment's rollout. */
export interface RolloutNotice {
  deployment_id: string;
  canary: string;
  status: RolloutStatus | 'starting';
  /** The step in progress (0-based) and how many there are. */
  step: number;
  steps: number;
  /** The canary's weight now. */
  weight_bps: number;
  /** The file asks for a split the last rollout rolled back or aborted: nothing changes until the file does. */
  diverged: boolean;
  /**
   * The rollout holds at a pause (its timer has not run out, or it waits for `bp rollout promote`)
   * or at a halted analysis: an apply now would hold again (`plan --detailed-exitcode` exits 4).
   * Absent in plans written before it existed.
   */
  waiting?: boolean;
  message: string;
}

/** Something changed outside bp, seen through a deployer's `observe`. */
export interface DriftItem {
  deployment_id: string;
  revision_id: string | null;
  kind: 'revision_missing' | 'revision_unhealthy' | 'split_changed' | 'unmanaged_revision';
  message: string;
}

export interface ExpiredRevision {
  deployment_id: string;
  revision_id: string;
  expired_at: string;
  carries_traffic: boolean;
}

/** A secret a live revision was given has a newer version in its store (never a value). */
export interface SecretUpdate {
  deployment_id: string;
  revision_id: string;
  /** The reference's text as written, e.g. `${secret:aws-sm:prod/db#password}`. */
  reference: string;
  /** Version id recorded when the revision was staged or warmed. */
  recorded_version: string;
  /** Version id the store has now. */
  current_version: string;
}

export interface PlanSummary {
  stage: number;
  warm: number;
  update: number;
  apply_traffic_split: number;
  drain: number;
  archive: number;
}

export interface Plan {
  format_version: typeof PLAN_FORMAT;
  environment_id: string;
  prior: { lineage: string | null; serial: number };
  changes: boolean;
  steps: PlanStep[];
  summary: PlanSummary;
  drift: DriftItem[];
  expired: ExpiredRevision[];
  /** `--target` deployments, empty when the plan covers the whole environment. */
  targets: string[];
  /** True for `bp destroy` plans. */
  destroy: boolean;
  /** Rollouts starting, in progress or diverged from the file. */
  rollouts: RolloutNotice[];
  /**
   * Secrets of live revisions that have a newer version in their store than the revision was
   * given. Revisions are immutable: declaring a new revision rolls the new version out.
   * Absent when none (or when the stores were not asked: --refresh=false, destroy, sweep).
   */
  secret_updates?: SecretUpdate[];
}

/** A saved plan (`bp plan --out`): the plan plus the desired environment it was made from. */
export interface PlanFile {
  format_version: 'bp.planfile/v1';
  created_at: string;
  source_file: string;
  desired: Environment;
  plan: Plan;
  /** `sha256:HEX` over the canonical JSON of the other fields (src/plan/saved-plan.ts). */
  digest: string;
}

export function stepId(verb: Verb, deploymentId: string, revisionId: string | null): string {
  if (verb === 'apply_traffic_split') return `split:${deploymentId}`;
  // '@' is not allowed in ids: the environment's step never collides with a deployment's.
  if (revisionId === null) return `${verb}:${deploymentId === ENVIRONMENT_SCOPE ? '@environment' : deploymentId}`;
  return `${verb}:${deploymentId}/${revisionId}`;
}

export function summarize(steps: readonly PlanStep[]): PlanSummary {
  const s: PlanSummary = { stage: 0, warm: 0, update: 0, apply_traffic_split: 0, drain: 0, archive: 0 };
  for (const step of steps) s[step.verb]++;
  return s;
}
