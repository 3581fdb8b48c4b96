/**
 * Turns one bp run (apply, destroy, or each pass of a sweep) into webhook events: the CLI
 * feeds it the engine's events and tells it when execution starts and ends. It adds nothing
 * to the engine's work and costs nothing when the file declares no notifications.
 */
import type { Environment } from '../../model/environment.js';
import { ENVIRONMENT_SCOPE, type Plan, type PlanStep } from '../../model/plan.js';
import type { ApplyEvent, ApplyResult } from '../events.js';
import { messageOf } from '../../model/errors.js';
import { describeFailures, Notifier } from '../notify.js';
import type { DeliveryPolicy } from './deliver.js';
import {
  digestPlan,
  expiredFields,
  type EventFields,
  type Operation,
  type PlanDigest,
  type ResultDigest,
  type StepDigest,
} from './event.js';

export interface NotificationSettings {
  policy: Partial<DeliveryPolicy>;
  /** How long the command waits at its end for deliveries still in flight. */
  finalWaitMs: number;
}

export const DEFAULT_FINAL_WAIT_MS = 5000;

/** BP_NOTIFY_TIMEOUT_MS, BP_NOTIFY_BACKOFF_MS, BP_NOTIFY_WAIT_MS tune delivery (tests, slow links). */
export function notificationSettingsFrom(vars: Record<string, string | undefined>): NotificationSettings {
  const num = (name: string): number | undefined => {
    const v = vars[name];
    const n = v === undefined || v === '' ? NaN : Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  const policy: Partial<DeliveryPolicy> = {};
  const timeoutMs = num('BP_NOTIFY_TIMEOUT_MS');
  const baseDelayMs = num('BP_NOTIFY_BACKOFF_MS');
  if (timeoutMs !== undefined && timeoutMs > 0) policy.timeoutMs = timeoutMs;
  if (baseDelayMs !== undefined) policy.baseDelayMs = baseDelayMs;
  return { policy, finalWaitMs: num('BP_NOTIFY_WAIT_MS') ?? DEFAULT_FINAL_WAIT_MS };
}

export interface RunNotificationsOptions {
  settings?: NotificationSettings;
  /** Where `${file:PATH}` in a notification's url or secret resolves from (the env file's directory). */
  baseDir?: string;
  /**
   * Expiries already announced. `bp sweep --watch` passes one set to every pass so each
   * revision's expiry is announced once, not once a pass.
   */
  expiredSeen?: Set<string>;
}

export class RunNotifications {
  private readonly notifier: Notifier | null;
  private readonly settings: NotificationSettings;
  private readonly expiredSeen: Set<string>;
  private running: Plan | null = null;

  constructor(
    env: Environment,
    operation: Operation,
    vars: Record<string, string | undefined>,
    opts: RunNotificationsOptions = {},
  ) {
    this.settings = opts.settings ?? notificationSettingsFrom(vars);
    this.expiredSeen = opts.expiredSeen ?? new Set();
    this.notifier =
      env.notifications.length === 0
        ? null
        : new Notifier({
            environmentId: env.environment_id,
            operation,
            notifications: env.notifications,
            vars,
            baseDir: opts.baseDir,
            policy: this.settings.policy,
          });
  }

  /** Feed every engine event through here (alongside the view). */
  event(e: ApplyEvent): void {
    const n = this.notifier;
    if (!n) return;
    switch (e.type) {
      case 'plan_ready':
        n.setPlan(e.plan);
        for (const x of e.plan.expired) {
          // Once per revision and expiry per process: a watching sweeper must not repeat it every pass.
          const key = `${x.deployment_id}/${x.revision_id}@${x.expired_at}`;
          if (this.expiredSeen.has(key)) continue;
          this.expiredSeen.add(key);
          n.send(expiredFields(x));
        }
        break;
      case 'step_started':
        n.send(stepFields('started', e.step));
        break;
      case 'step_succeeded':
        n.send(stepFields('succeeded', e.step, { duration_ms: e.durationMs }));
        break;
      case 'step_failed':
        n.send(stepFields('failed', e.step, { duration_ms: e.durationMs, error: e.error, code: e.code }));
        break;
      case 'step_skipped':
        n.send(stepFields('skipped', e.step, { because: e.because }));
        break;
      case 'rollout':
        if (e.status === 'paused' || e.status === 'completed') n.send(rolloutFields(e.status, e));
        break;
      case 'rollout_rolled_back':
        n.send(rolloutFields('rolled_back', e));
        break;
      default:
        break;
    }
  }

  /** The plan was approved and its steps are about to run. */
  started(plan: Plan): void {
    this.running = plan;
    this.notifier?.send({ event: 'apply.started', status: 'started', plan: digestPlan(plan) });
  }

  /** The run ended; sends apply.finished only when apply.started was sent. */
  finished(result: ApplyResult | null): void {
    const plan = this.endRun();
    if (!plan || !result) return;
    const status = result.interrupted ? 'interrupted' : result.failed + result.skipped > 0 ? 'failed' : 'succeeded';
    this.notifier?.send({ event: 'apply.finished', status, plan, result: resultDigest(result) });
  }

  /** The run ended with an error after it had started. */
  errored(error: unknown): void {
    const plan = this.endRun();
    if (!plan) return;
    this.notifier?.send({ event: 'apply.finished', status: 'errored', plan, message: messageOf(error) });
  }

  /** The digest of the plan that was running (null when none had started), now that it ended. */
  private endRun(): PlanDigest | null {
    const plan = this.running && digestPlan(this.running);
    this.running = null;
    return plan;
  }

  /** Waits (bounded) for in-flight deliveries; returns warning lines for what did not arrive. */
  async settle(): Promise<string[]> {
    if (!this.notifier) return [];
    const r = await this.notifier.close(this.settings.finalWaitMs);
    return [...r.warnings, ...describeFailures(r.failures)];
  }
}

type StepStatus = 'started' | 'succeeded' | 'failed' | 'skipped';

/** A `step.*` event: where the step acts, what it is, and what its outcome adds (duration, error...). */
function stepFields(
  status: StepStatus,
  step: PlanStep,
  outcome: Omit<StepDigest, 'id' | 'verb' | 'reason'> = {},
): EventFields {
  return {
    event: `step.${status}`,
    status,
    // The environment's own step (deployment_id "") is about no deployment: null, as the event schema says.
    deployment_id: step.deployment_id === ENVIRONMENT_SCOPE ? null : step.deployment_id,
    revision_id: step.revision_id,
    step: { id: step.id, verb: step.verb, reason: step.reason, ...outcome },
  };
}

/** A `rollout.*` event about a deployment's canary. */
function rolloutFields(
  status: 'paused' | 'completed' | 'rolled_back',
  e: { deployment_id: string; canary: string; message: string },
): EventFields {
  return {
    event: `rollout.${status}`,
    status,
    deployment_id: e.deployment_id,
    revision_id: e.canary,
    message: e.message,
  };
}

function resultDigest(r: ApplyResult): ResultDigest {
  return {
    succeeded: r.succeeded,
    failed: r.failed,
    skipped: r.skipped,
    not_started: r.notStarted,
    interrupted: r.interrupted,
  };
}
