/**
 * The `bp.event/v1` webhook body (schemas/event.schema.json) and which subscriptions want
 * which event. Plain data: building a body does no I/O and never sees a secret.
 */
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../model/output.js';
import type { ExpiredRevision, Plan, PlanSummary } from '../../model/plan.js';

export const EVENT_SCHEMA = 'bp.event/v1' as const;

/** The webhook event names: one list in src/model/output.ts, shared with the `--json` stream. */
export const EVENT_TYPES = WEBHOOK_EVENT_TYPES;
export type EventType = WebhookEventType;

export type Operation = 'apply' | 'destroy' | 'sweep';

export type EventStatus =
  | 'started'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'interrupted'
  | 'errored'
  | 'expired'
  | 'paused'
  | 'completed'
  | 'rolled_back';

export interface PlanDigest {
  prior: { lineage: string | null; serial: number };
  changes: boolean;
  summary: PlanSummary;
}

export interface StepDigest {
  id: string;
  verb: string;
  reason: string;
  duration_ms?: number;
  error?: string;
  code?: string;
  because?: string;
}

export interface ResultDigest {
  succeeded: number;
  failed: number;
  skipped: number;
  not_started: number;
  interrupted: boolean;
}

export interface BpEvent {
  schema: typeof EVENT_SCHEMA;
  /** Unique per event; the same on every delivery attempt, so receivers can drop duplicates. */
  id: string;
  /** Order of events within one bp run (deliveries are concurrent and may arrive out of order). */
  sequence: number;
  event: EventType;
  timestamp: string;
  environment_id: string;
  operation: Operation;
  status: EventStatus;
  deployment_id: string | null;
  revision_id: string | null;
  plan: PlanDigest | null;
  step?: StepDigest;
  result?: ResultDigest;
  expired?: { expired_at: string; carries_traffic: boolean };
  message?: string;
}

/** What a caller supplies; the notifier adds schema, id, sequence, timestamp and the run's context. */
export type EventFields = Pick<BpEvent, 'event' | 'status'> &
  Partial<Pick<BpEvent, 'deployment_id' | 'revision_id' | 'step' | 'result' | 'expired' | 'message' | 'plan'>>;

export function digestPlan(plan: Plan): PlanDigest {
  return { prior: { ...plan.prior }, changes: plan.changes, summary: { ...plan.summary } };
}

export function expiredFields(x: ExpiredRevision): EventFields {
  return {
    event: 'revision.expired',
    status: 'expired',
    deployment_id: x.deployment_id,
    revision_id: x.revision_id,
    expired: { expired_at: x.expired_at, carries_traffic: x.carries_traffic },
  };
}

/**
 * A subscription's `events` entry matches an event type exactly, as `*` (everything) or as
 * a `prefix.*` family (`step.*`).
 */
export function subscribes(patterns: readonly string[], type: EventType): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

/** Entries that can never match anything: worth a warning, since a typo silences a webhook. */
export function unknownPatterns(patterns: readonly string[]): string[] {
  return patterns.filter((p) => !EVENT_TYPES.some((t) => subscribes([p], t)));
}
