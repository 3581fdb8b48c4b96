/**
 * The machine-readable outputs of bp (docs/design.md#json-outputs): each carries one of these
 * `format_version`s, uses snake_case keys, and is described by a JSON Schema under schemas/.
 * A reader checks `format_version` before it trusts the rest.
 */
export const OUTPUT_FORMATS = {
  /** `bp plan --json`, `bp show PLANFILE --json` (schemas/plan.schema.json). */
  plan: 'bp.plan/v1',
  /** `bp plan --out FILE` (schemas/planfile.schema.json). */
  planfile: 'bp.planfile/v1',
  /** `bp state show ENV --json` (schemas/state.schema.json). */
  state: 'bp.state/v1',
  /** `bp state list --json` (schemas/state-list.schema.json). */
  state_list: 'bp.state-list/v1',
  /** `bp validate --json` (schemas/validate.schema.json). */
  validate: 'bp.validate/v1',
  /** `bp rollout status --json` (schemas/rollout-status.schema.json). */
  rollout_status: 'bp.rollout-status/v1',
  /** `bp history ENV --json` (schemas/history.schema.json). */
  history: 'bp.history/v1',
  /** `bp runtime-config ENV` and the materialized file (schemas/runtime-config.schema.json). */
  runtime_config: 'bp.runtime-config/v1',
  /** `bp conformance --json` (schemas/conformance.schema.json). */
  conformance: 'bp.conformance/v1',
  /** Each line of `bp apply|destroy|sweep|rollout promote|abort --json` (schemas/apply-event.schema.json). */
  apply_event: 'bp.apply-event/v1',
} as const;

/**
 * Event names shared by the webhooks (bp.event/v1) and the `--json` event stream: what
 * happened, as `<subject>.<what>`. The webhooks send these.
 */
export const WEBHOOK_EVENT_TYPES = [
  'apply.started',
  'apply.finished',
  'step.started',
  'step.succeeded',
  'step.failed',
  'step.skipped',
  'revision.expired',
  'rollout.paused',
  'rollout.completed',
  'rollout.rolled_back',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The `--json` stream carries every webhook event it can see, plus progress that only matters
 * to whoever watches the run (retries, holds, warnings). One list, so the two never drift.
 */
export const STREAM_EVENT_TYPES = [
  ...WEBHOOK_EVENT_TYPES,
  'plan.ready',
  'refresh.started',
  'step.retrying',
  'step.held',
  'step.waiting',
  'step.progress',
  'rollout.progressing',
  'rollout.halted',
  'rollout.aborted',
  'interrupt.requested',
  'sweep.finished',
  'warning',
] as const;
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];
