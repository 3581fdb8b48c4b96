/**
 * Webhook notifications (`notifications:` in env.yaml). `send` never blocks and never
 * throws: each event becomes a signed `bp.event/v1` POST queued per webhook and delivered
 * concurrently in the background. When the command ends, `close` waits a bounded time for
 * what is still in flight, cuts the rest short, and returns what was not delivered so the
 * CLI can report it as a warning. A slow or broken receiver can delay bp by at most that
 * bound and can never fail it. Secrets are resolved in memory at first send and never
 * logged, persisted or put in a message.
 */
import { randomUUID } from 'node:crypto';
import type { Notification } from '../model/environment.js';
import type { Plan } from '../model/plan.js';
import { resolveReferences } from '../spec/index.js';
import { fetchReferences } from './secrets/resolve.js';
import { messageOf } from '../model/errors.js';
import { redactor } from '../model/redact.js';
import {
  DEFAULT_DELIVERY,
  deliver,
  redactUrl,
  signBody,
  standardWebhookHeaders,
  type DeliveryPolicy,
} from './notify/deliver.js';
import {
  EVENT_SCHEMA,
  EVENT_TYPES,
  digestPlan,
  subscribes,
  unknownPatterns,
  type BpEvent,
  type EventFields,
  type EventType,
  type Operation,
  type PlanDigest,
} from './notify/event.js';

export {
  signBody,
  verifySignature,
  redactUrl,
  standardSignature,
  standardWebhookHeaders,
  verifyStandardWebhook,
  type DeliveryPolicy,
} from './notify/deliver.js';
export * from './notify/event.js';

export interface NotifierOptions {
  environmentId: string;
  operation: Operation;
  notifications: readonly Notification[];
  /** Where `${env:NAME}` in `url` and `secret` resolves from (and store settings), at first send. */
  vars: Record<string, string | undefined>;
  /** Where `${file:PATH}` resolves from (the env file's directory); default the working directory. */
  baseDir?: string;
  policy?: Partial<DeliveryPolicy>;
  /** Deliveries in flight per webhook; the rest queue in order. */
  concurrency?: number;
  clock?: () => Date;
}

export interface DeliveryFailure {
  /** `#N (origin)`: which entry of `notifications`, with the URL redacted. */
  webhook: string;
  event: EventType;
  id: string;
  attempts: number;
  error: string;
}

export interface NotifierReport {
  delivered: number;
  failures: DeliveryFailure[];
  /** Configuration problems (an unknown event name, an unset secret variable). */
  warnings: string[];
}

interface Job {
  event: BpEvent;
  body: Buffer;
}

interface Hook {
  label: string;
  config: Notification;
  /** undefined: not resolved yet; null: no secret configured. */
  secret?: string | null;
  /** The URL with its references resolved (in memory only), once the hook is ready. */
  url?: string;
  /** `${env:}`, `${file:}` and `${secret:}` in url and secret, fetched once, at the first send. */
  resolving?: Promise<boolean>;
  disabled: boolean;
  queue: Job[];
  active: number;
}

export class Notifier {
  private readonly hooks: Hook[];
  private readonly policy: DeliveryPolicy;
  private readonly concurrency: number;
  private readonly clock: () => Date;
  private readonly abort = new AbortController();
  private readonly idleWaiters: Array<() => void> = [];
  private pending = 0;
  private sequence = 0;
  private plan: PlanDigest | null = null;
  private closed = false;
  private report: NotifierReport = { delivered: 0, failures: [], warnings: [] };

  constructor(private readonly opts: NotifierOptions) {
    this.policy = { ...DEFAULT_DELIVERY, ...opts.policy };
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.clock = opts.clock ?? (() => new Date());
    this.hooks = opts.notifications.map((config, i) => ({
      label: `#${i + 1} (${redactUrl(config.url)})`,
      config,
      disabled: false,
      queue: [],
      active: 0,
    }));
    for (const h of this.hooks) {
      const unknown = unknownPatterns(h.config.events);
      if (unknown.length > 0) {
        this.report.warnings.push(
          `webhook ${h.label} subscribes to unknown event ${unknown.map((u) => `"${u}"`).join(', ')}; ` +
            `known: ${['*', ...new Set(EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`)), ...EVENT_TYPES].join(', ')}`,
        );
      }
    }
  }

  get enabled(): boolean {
    return this.hooks.length > 0;
  }

  /** The plan later events describe (its summary goes into every body). */
  setPlan(plan: Plan | null): void {
    this.plan = plan ? digestPlan(plan) : null;
  }

  /** Queues the event for every webhook subscribed to it; returns at once. */
  send(fields: EventFields): void {
    if (this.closed) return;
    const wanted = this.hooks.filter((h) => !h.disabled && subscribes(h.config.events, fields.event));
    if (wanted.length === 0) return;
    const event: BpEvent = {
      schema: EVENT_SCHEMA,
      id: randomUUID(),
      sequence: ++this.sequence,
      event: fields.event,
      timestamp: this.clock().toISOString(),
      environment_id: this.opts.environmentId,
      operation: this.opts.operation,
      status: fields.status,
      deployment_id: fields.deployment_id ?? null,
      revision_id: fields.revision_id ?? null,
      plan: fields.plan ?? this.plan,
      ...(fields.step ? { step: fields.step } : {}),
      ...(fields.result ? { result: fields.result } : {}),
      ...(fields.expired ? { expired: fields.expired } : {}),
      ...(fields.message !== undefined ? { message: fields.message } : {}),
    };
    // Secrets first (registering them), then the body through the one redactor. References are
    // resolved at send time only (never in the plan or state); the event waits for its hook's.
    for (const hook of wanted) {
      this.pending++;
      hook.resolving ??= this.resolveHook(hook);
      void hook.resolving.then((ready) => {
        if (!ready || this.abort.signal.aborted) return this.settle();
        hook.queue.push({ event, body: Buffer.from(JSON.stringify(redactor.redactDeep(event))) });
        this.pump(hook);
      });
    }
  }

  /** One job fewer; wakes `close` when none is left. */
  private settle(): void {
    this.pending--;
    if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** What finished since the last call (for `bp sweep --watch`, which never closes between passes). */
  takeReport(): NotifierReport {
    const out = this.report;
    this.report = { delivered: 0, failures: [], warnings: [] };
    return out;
  }

  /**
   * Waits up to `maxWaitMs` for queued and in-flight deliveries, then cuts the rest short.
   * Returns everything not yet taken with `takeReport`, including what was cut short.
   */
  async close(maxWaitMs: number): Promise<NotifierReport> {
    this.closed = true;
    if (this.pending > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, maxWaitMs))),
      ]);
      clearTimeout(timer);
    }
    if (this.pending > 0) {
      for (const h of this.hooks) {
        for (const job of h.queue.splice(0)) {
          this.pending--;
          this.fail(h, job, 0, `not sent: bp stopped waiting after ${formatMs(maxWaitMs)}`);
        }
      }
      this.abort.abort();
      // Cut-short deliveries settle promptly (sockets destroyed, sleeps rejected).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, 1000))),
      ]);
      clearTimeout(timer);
    }
    this.abort.abort();
    return this.takeReport();
  }

  private async resolveHook(hook: Hook): Promise<boolean> {
    if (hook.disabled) return false;
    const refs = { url: hook.config.url, ...(hook.config.secret !== undefined ? { secret: hook.config.secret } : {}) };
    try {
      // A token in the URL (chat webhooks put one in the path) comes from a reference too.
      const { lookup } = await fetchReferences(refs, {
        vars: this.opts.vars,
        baseDir: this.opts.baseDir ?? process.cwd(),
        basePath: ['notifications', 0],
        signal: this.abort.signal,
      });
      const resolved = resolveReferences(refs, lookup, {
        file: `notifications ${hook.label}`,
        basePath: ['notifications', 0],
      });
      hook.url = resolved.url;
      hook.secret = resolved.secret ?? null;
      return true;
    } catch (e) {
      // Never send unsigned what the operator asked to sign; the message names the reference, not a value.
      hook.disabled = true;
      this.report.warnings.push(
        `webhook ${hook.label} is not notified: ${redactor.redact(messageOf(e)).replace(/^.*?: /, '')}`,
      );
      return false;
    }
  }

  private pump(hook: Hook): void {
    while (hook.active < this.concurrency && hook.queue.length > 0) {
      const job = hook.queue.shift()!;
      hook.active++;
      void this.run(hook, job).finally(() => {
        hook.active--;
        if (!this.abort.signal.aborted) this.pump(hook);
        this.settle();
      });
    }
  }

  private async run(hook: Hook, job: Job): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'bp-webhook/1',
      'x-bp-event': job.event.event,
      'x-bp-delivery': job.event.id,
    };
    if (hook.secret) {
      // Standard Webhooks headers (id + timestamp + body signed), and the older body-only
      // X-BP-Signature for receivers written against it (docs/sweep-and-notifications.md).
      Object.assign(headers, standardWebhookHeaders(hook.secret, job.event.id, job.body));
      headers['x-bp-signature'] = signBody(hook.secret, job.body);
    }
    try {
      const r = await deliver(hook.url ?? hook.config.url, job.body, headers, this.policy, this.abort.signal);
      if (r.ok) this.report.delivered++;
      else this.fail(hook, job, r.attempts, r.error);
    } catch (e) {
      this.fail(hook, job, 0, messageOf(e));
    }
  }

  private fail(hook: Hook, job: Job, attempts: number, error: string): void {
    this.report.failures.push({ webhook: hook.label, event: job.event.event, id: job.event.id, attempts, error });
  }
}

/** One warning line per webhook: which events it missed and the last reason. */
export function describeFailures(failures: readonly DeliveryFailure[]): string[] {
  const byHook = new Map<string, DeliveryFailure[]>();
  for (const f of failures) byHook.set(f.webhook, [...(byHook.get(f.webhook) ?? []), f]);
  const lines: string[] = [];
  for (const [hook, list] of byHook) {
    const events = [...new Set(list.map((f) => f.event))].join(', ');
    const last = list[list.length - 1];
    const tries = last.attempts > 0 ? ` after ${last.attempts} attempt${last.attempts === 1 ? '' : 's'}` : '';
    lines.push(
      `webhook ${hook} did not receive ${list.length} event${list.length === 1 ? '' : 's'} (${events}): ${last.error}${tries}`,
    );
  }
  return lines;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
