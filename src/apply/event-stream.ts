/**
 * The `--json` event stream (docs/design.md#json-outputs, schemas/apply-event.schema.json):
 * one object per line, each with `format_version`, `event` (the webhook names, src/model/output.ts),
 * `timestamp` and snake_case fields. The engine's own event type names stay internal.
 */
import type { ApplyEvent, ApplyResult } from './events.js';
import { OUTPUT_FORMATS, type StreamEventType } from '../model/output.js';

export type StreamLine = { format_version: string; event: StreamEventType; timestamp: string } & Record<
  string,
  unknown
>;

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Engine type -> stream event: `step_succeeded` -> `step.succeeded` (the subject before the first `_`). */
function eventName(e: ApplyEvent): StreamEventType {
  switch (e.type) {
    case 'rollout':
      return `rollout.${e.status}` as StreamEventType;
    case 'interrupting':
      return 'interrupt.requested';
    case 'warning':
      return 'warning';
    default:
      return e.type.replace('_', '.') as StreamEventType;
  }
}

export function line(event: StreamEventType, fields: Record<string, unknown>, now = new Date()): StreamLine {
  return { format_version: OUTPUT_FORMATS.apply_event, event, timestamp: now.toISOString(), ...fields };
}

/** One engine event as a stream line. */
export function streamLine(e: ApplyEvent, now = new Date()): StreamLine {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'type') continue;
    if (k === 'step' && v && typeof v === 'object') {
      const step = v as { id: string; verb: string; deployment_id: string; revision_id: string | null };
      Object.assign(fields, {
        step_id: step.id,
        verb: step.verb,
        deployment_id: step.deployment_id,
        revision_id: step.revision_id,
      });
    } else if (k === 'at' && typeof v === 'number') {
      fields.started_at = new Date(v).toISOString();
    } else if (k === 'canary' && e.type.startsWith('rollout')) {
      fields.revision_id = v;
      fields.canary = v;
    } else {
      fields[snake(k)] = v;
    }
  }
  return line(eventName(e), fields, now);
}

export type FinishStatus = 'succeeded' | 'failed' | 'interrupted' | 'paused' | 'cancelled';

/** The last line of a run: `apply.finished` with the outcome of every step. */
export function finishLine(
  result: ApplyResult | null,
  extra: { cancelled?: boolean; destroy?: boolean } = {},
  now = new Date(),
): StreamLine {
  const status: FinishStatus = extra.cancelled
    ? 'cancelled'
    : !result
      ? 'succeeded'
      : result.interrupted
        ? 'interrupted'
        : result.failed > 0
          ? 'failed'
          : result.held > 0
            ? 'paused'
            : 'succeeded';
  return line(
    'apply.finished',
    {
      operation: extra.destroy ? 'destroy' : 'apply',
      status,
      cancelled: Boolean(extra.cancelled),
      result: result
        ? {
            succeeded: result.succeeded,
            failed: result.failed,
            skipped: result.skipped,
            not_started: result.notStarted,
            held: result.held,
            waiting: result.waiting,
            interrupted: result.interrupted,
            outcomes: result.outcomes,
          }
        : null,
    },
    now,
  );
}
