/** What the engine reports while it works; the CLI renders these (human or JSON). It never prints. */
import type { VerbProgress } from '../model/deployer.js';
import type { Plan, PlanStep } from '../model/plan.js';
import type { RolloutStatus } from '../model/state.js';

export type ApplyEvent =
  | { type: 'refresh_started'; deployers: string[] }
  | { type: 'plan_ready'; plan: Plan }
  | { type: 'step_started'; step: PlanStep; at: number }
  | { type: 'step_retrying'; step: PlanStep; attempt: number; error: string; delayMs: number }
  | { type: 'step_succeeded'; step: PlanStep; durationMs: number }
  | { type: 'step_failed'; step: PlanStep; error: string; code: string; durationMs: number }
  | { type: 'step_skipped'; step: PlanStep; because: string }
  | { type: 'step_held'; step: PlanStep; message: string; durationMs: number }
  | { type: 'step_waiting'; step: PlanStep; on: string }
  /** What a running step's deployer waits for now (live progress; not in the --json stream: it is chatty). */
  | { type: 'step_progress'; step: PlanStep; waiting_for: string; status?: string; last?: string }
  | { type: 'rollout'; deployment_id: string; canary: string; status: RolloutStatus; message: string }
  | { type: 'rollout_rolled_back'; deployment_id: string; canary: string; message: string }
  | { type: 'interrupting'; hard: boolean }
  | { type: 'warning'; message: string };

export type EventSink = (e: ApplyEvent) => void;

export interface StepOutcome {
  step_id: string;
  /** held: a rollout step waiting in a pause (its dependents are `waiting`, not failed). */
  status: 'succeeded' | 'failed' | 'skipped' | 'not_started' | 'held' | 'waiting';
  error?: string;
  code?: string;
  because?: string;
}

export interface ApplyResult {
  outcomes: StepOutcome[];
  succeeded: number;
  failed: number;
  skipped: number;
  notStarted: number;
  /** Rollout steps holding in a pause, and the steps waiting on them. */
  held: number;
  waiting: number;
  interrupted: boolean;
}

/**
 * The `progress` callback a verb gets: a plugin's report is untrusted, so only bounded strings
 * pass, and a report after the verb settled is harmless (the view drops steps it is not running).
 */
export function progressReporter(step: PlanStep, emit: EventSink): (p: VerbProgress) => void {
  const text = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? (v.length > 200 ? `${v.slice(0, 199)}…` : v) : undefined;
  return (p) => {
    const waiting_for = text(p?.waiting_for);
    if (!waiting_for) return;
    const status = text(p.status);
    const last = text(p.last);
    emit({ type: 'step_progress', step, waiting_for, ...(status ? { status } : {}), ...(last ? { last } : {}) });
  };
}
