/**
 * Recorded state: what bp knows it has done, per environment. A JSON document with a
 * lineage (uuid, fixed for the life of the environment's state) and a serial (bumped by
 * every apply that writes), evolved only through `Mutation`s so that every backend can
 * journal the same small records and replay them with `applyMutation`.
 *
 * History (`HistoryEntry`, `bp history`) is one more mutation, recorded after the last step of
 * an operation and before its checkpoint, in the same journal as the steps. Crash windows:
 * - before the history record is durable: the steps are recorded (each before the next
 *   depended on it) but the operation has no entry; `bp history` misses that run, and the
 *   next plan still shows exactly what state holds. Nothing is lost but the entry.
 * - after it, before the checkpoint: replaying the journal on load applies it (with its
 *   bound), so the entry is there exactly once.
 * - during the checkpoint: the snapshot holds it or the journal still does (as for steps).
 * Entries are bounded (`--history-limit`, oldest dropped) so state does not grow without end;
 * ids keep counting so a dropped entry's id is never reused.
 */
import type { Artifact, DeployerInstance, Health, Resources, Rollout, RolloutStep, SplitEntry } from './environment.js';
import type { FieldChange } from './plan.js';

export const STATE_FORMAT = 'bp.state/v1' as const;

export type LifecycleState = 'inactive' | 'staged' | 'warming' | 'ready' | 'draining' | 'failed' | 'archived';

export const LIFECYCLE_STATES: readonly LifecycleState[] = [
  'inactive',
  'staged',
  'warming',
  'ready',
  'draining',
  'failed',
  'archived',
];

/** The table in docs/design.md#transition-table. */
export const LIFECYCLE_TRANSITIONS: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  inactive: ['staged', 'failed', 'archived'],
  staged: ['warming', 'failed', 'archived'],
  warming: ['ready', 'failed', 'archived'],
  ready: ['draining', 'failed', 'archived'],
  draining: ['inactive'],
  failed: ['staged', 'archived'],
  archived: [],
};

export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return LIFECYCLE_TRANSITIONS[from].includes(to);
}

/** The parts of a revision that are immutable once staged. */
export interface RevisionSpec {
  artifact: Artifact;
  resources: Resources;
  health: Health;
}

export interface RecordedRevision {
  revision_id: string;
  deployment_id: string;
  lifecycle: LifecycleState;
  /** The immutable spec as staged (env values unresolved). Null until first staged. */
  spec: RevisionSpec | null;
  drain_seconds: number;
  ttl: string | null;
  /** ISO time the revision was first staged; TTLs count from here. */
  staged_at: string | null;
  /**
   * ISO time it first became ready (absent in state written before it existed). A revision that
   * never was ready never served, so its spec may still be replaced in place.
   */
  ready_at?: string | null;
  updated_at: string;
  /** Provider outputs returned by the deployer (never secret values). */
  outputs: Record<string, unknown>;
  /**
   * The secret store's version id of each `${secret:...}` reference in the revision's
   * `artifact.env` (keyed by the reference's text), as last delivered by a stage or warm. Never
   * a value. Absent when the revision has no secret reference (or in state written before it).
   */
  secret_versions?: Record<string, string>;
  endpoint: string | null;
  last_error: string | null;
}

export interface RecordedDeployment {
  deployment_id: string;
  deployer: string;
  listen: string | null;
  /** The metrics listener last enforced (null: a free port); absent in state written before it existed. */
  metrics_listen?: string | null;
  /** The split bp last enforced through the deployer; [] when none is enforced. */
  split: SplitEntry[];
  /** The rollout moving traffic to a new revision, or the last one that ended; absent: none. */
  rollout?: RolloutProgress | null;
  /**
   * The `rollout:` block as last applied (null: none), what the next rollout will walk; a rollout
   * in progress keeps the steps it began with (`RolloutProgress.steps`). Absent in state written
   * before it existed (the plan then records it through an `update` step).
   */
  rollout_strategy?: Rollout | null;
}

/**
 * A webhook of `notifications:` as recorded: never a secret value. References (`${env:NAME}`...)
 * are kept as written; a URL with a literal path, query or user part (chat webhooks put tokens
 * there) keeps only its origin and a short fingerprint of the text as written, so a change
 * shows in the plan without the URL being stored (src/plan/settings.ts).
 */
export interface RecordedNotification {
  url: string;
  events: string[];
  /** The secret's reference as written (validation refuses literal secrets); absent: unsigned. */
  secret?: string;
}

/**
 * Where a progressive rollout stands. Recorded after every step, so a rollout survives bp
 * restarts and spans CI jobs.
 *   progressing: steps remain and nothing holds it
 *   paused:      waiting in a pause step (until `pause_until`, or for `bp rollout promote`)
 *   halted:      an analysis failed with `on_failure: pause`; promote or abort decides
 *   completed:   the declared split is enforced
 *   rolled_back / aborted: the stable split is enforced again; the file diverges until changed
 */
export type RolloutStatus = 'progressing' | 'paused' | 'halted' | 'completed' | 'rolled_back' | 'aborted';
export const ACTIVE_ROLLOUT_STATUSES: readonly RolloutStatus[] = ['progressing', 'paused', 'halted'];

export interface RolloutMeasurement {
  at: string;
  /** The rollout step (1-based) whose analysis took it; absent in state written before it existed (the step then in progress). */
  step?: number;
  value: number | null;
  verdict: 'pass' | 'fail' | 'inconclusive';
  detail: string;
}

export interface RolloutProgress {
  /** The revision gaining traffic. */
  canary: string;
  /** The split enforced when the rollout began: where rollback and abort return. */
  stable: SplitEntry[];
  /** The declared split the rollout moves to. */
  target: SplitEntry[];
  /** The steps as declared when the rollout began. */
  steps: RolloutStep[];
  on_failure: 'rollback' | 'pause';
  /** Index of the step in progress (or next to run); `steps.length`: only the final split is left. */
  step: number;
  /** When the current step began (pauses and analyses count from here). */
  step_started_at: string;
  /** For a timed pause: when it ends. */
  pause_until: string | null;
  /**
   * Every analysis measurement of this rollout, oldest first, each tagged with its step: kept
   * after the analysis passes and after the rollout ends, so `bp rollout status` still shows them.
   */
  measurements: RolloutMeasurement[];
  /** Set by `bp rollout promote`: the current pause (or halted analysis) is passed; `full` skips every remaining step. */
  promoted: 'step' | 'full' | null;
  status: RolloutStatus;
  /** Where it stands, one sentence (why it rolled back, what it waits for). */
  message: string;
  started_at: string;
  updated_at: string;
}

/** A verb that was started but not yet recorded as finished (Pulumi-style pending op). */
export interface PendingOperation {
  step_id: string;
  started_at: string;
  lock_id: string;
}

export interface RecordedState {
  format_version: typeof STATE_FORMAT;
  environment_id: string;
  lineage: string;
  serial: number;
  /** Deployer instances as last declared, so teardown works after the file drops them. */
  deployers: Record<string, DeployerInstance>;
  deployments: Record<string, RecordedDeployment>;
  revisions: Record<string, RecordedRevision>;
  pending: Record<string, PendingOperation>;
  updated_at: string;
  /** What was done to the environment, oldest first, bounded (see HistoryEntry). Absent in older state. */
  history?: HistoryEntry[];
  /** The environment's webhooks as last applied, masked; absent in state written before it existed (none). */
  notifications?: RecordedNotification[];
}

/** Who ran an operation: user@host, and the CI system's variables when set. */
export interface Actor {
  user: string;
  host: string;
  /** GITHUB_ACTOR, GITHUB_SHA, GITHUB_RUN_ID, CI_PIPELINE_URL, CI_COMMIT_SHA: those that were set. */
  ci: Record<string, string>;
}

/** One apply, destroy, sweep, promote, abort or rollback, as `bp history` shows it. */
export interface HistoryEntry {
  /** 1, 2, 3... per environment; never reused, also after older entries are dropped. */
  id: number;
  at: string;
  operation: string;
  actor: Actor;
  /** sha256 of the plan's steps, null when no plan ran (a recorded decision). */
  plan_digest: string | null;
  steps: { total: number; succeeded: number; failed: number; skipped: number; not_started: number };
  outcome: 'succeeded' | 'failed' | 'interrupted' | 'held' | 'recorded';
  /** The split of each deployment touched, after the operation (what rollback restores). */
  splits: Record<string, SplitEntry[]>;
  /** Rollouts of the deployments touched, as they stood after the operation. */
  rollouts: Record<string, { canary: string; status: RolloutStatus; step: number; steps: number }>;
  /** `bp promote --force`, `bp rollback --to 7`...: what the operator asked beyond the plan. */
  note?: string;
  /**
   * Settings changed by `update` steps that succeeded, per step id: each field old -> new, masked
   * as in the plan. Absent when the operation updated none.
   */
  updated?: Record<string, FieldChange[]>;
}

/** Default bound of the history kept per environment (`--history-limit`). */
export const DEFAULT_HISTORY_LIMIT = 100;

/**
 * One change to recorded state. Backends persist these (a journal) and `applyMutation`
 * replays them, so a crash between two steps loses nothing that was acknowledged.
 */
export type Mutation =
  | { kind: 'deployer'; name: string; instance: DeployerInstance }
  | { kind: 'deployment'; deployment: RecordedDeployment }
  | { kind: 'deployment_removed'; deployment_id: string }
  | { kind: 'revision'; revision: RecordedRevision }
  | { kind: 'split'; deployment_id: string; entries: SplitEntry[] }
  | { kind: 'rollout'; deployment_id: string; rollout: RolloutProgress | null }
  | { kind: 'rollout_strategy'; deployment_id: string; strategy: Rollout | null }
  | { kind: 'notifications'; notifications: RecordedNotification[] }
  | { kind: 'pending'; op: PendingOperation }
  | { kind: 'pending_done'; step_id: string }
  | { kind: 'history'; entry: HistoryEntry; limit: number };

/**
 * What is wrong with a stored state document read back by a backend (null: nothing), so a
 * hand-edited or foreign document is reported as corrupt instead of being half-applied.
 */
export function stateDocumentProblem(v: unknown, environmentId: string): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object';
  const s = v as Partial<RecordedState>;
  if (s.format_version !== STATE_FORMAT) {
    return `unsupported format_version ${JSON.stringify(s.format_version)} (this bp reads ${STATE_FORMAT})`;
  }
  if (s.environment_id !== environmentId) {
    return `holds environment ${JSON.stringify(s.environment_id)}, expected "${environmentId}"`;
  }
  if (typeof s.lineage !== 'string' || s.lineage === '') return 'lineage is missing';
  if (!Number.isInteger(s.serial) || (s.serial as number) < 0) return 'serial is not a non-negative integer';
  for (const key of ['deployers', 'deployments', 'revisions', 'pending'] as const) {
    const m = s[key];
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return `"${key}" is not an object`;
  }
  return null;
}

export function emptyState(environmentId: string, lineage: string, now: Date): RecordedState {
  return {
    format_version: STATE_FORMAT,
    environment_id: environmentId,
    lineage,
    serial: 0,
    deployers: {},
    deployments: {},
    revisions: {},
    pending: {},
    updated_at: now.toISOString(),
  };
}

type Mutator<K extends Mutation['kind']> = (state: RecordedState, m: Extract<Mutation, { kind: K }>) => void;

/** What each mutation kind does to state; the mapped type makes the table list every kind. */
const MUTATORS: { readonly [K in Mutation['kind']]: Mutator<K> } = {
  deployer: (s, m) => put(s.deployers, m.name, m.instance),
  deployment: (s, m) => put(s.deployments, m.deployment.deployment_id, m.deployment),
  deployment_removed: (s, m) => remove(s.deployments, m.deployment_id),
  revision: (s, m) => put(s.revisions, m.revision.revision_id, m.revision),
  split: (s, m) => withDeployment(s, m.deployment_id, (d) => (d.split = m.entries)),
  rollout: (s, m) => withDeployment(s, m.deployment_id, (d) => (d.rollout = m.rollout)),
  rollout_strategy: (s, m) => withDeployment(s, m.deployment_id, (d) => (d.rollout_strategy = m.strategy)),
  notifications: (s, m) => {
    s.notifications = m.notifications;
  },
  pending: (s, m) => put(s.pending, m.op.step_id, m.op),
  pending_done: (s, m) => remove(s.pending, m.step_id),
  history: (s, m) => {
    const kept = [...(s.history ?? []), m.entry];
    s.history = kept.slice(Math.max(0, kept.length - Math.max(1, m.limit)));
  },
};

function put<T>(records: Record<string, T>, id: string, value: T): void {
  records[id] = value;
}

function remove(records: Record<string, unknown>, id: string): void {
  delete records[id];
}

/** Changes a recorded deployment; a split or rollout for one state no longer holds is ignored on replay. */
function withDeployment(state: RecordedState, id: string, change: (d: RecordedDeployment) => unknown): void {
  const d = state.deployments[id];
  if (d) change(d);
}

/** Every mutation kind, for backends checking what they read back. */
export const MUTATION_KINDS: ReadonlySet<string> = new Set(Object.keys(MUTATORS));

/** Applies one mutation in place (callers own the object); returns it for chaining. */
export function applyMutation(state: RecordedState, m: Mutation): RecordedState {
  // TypeScript cannot pair `m` with its own kind's entry through an indexed access; the table's type does.
  (MUTATORS[m.kind] as Mutator<Mutation['kind']>)(state, m);
  return state;
}
