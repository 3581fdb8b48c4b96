/**
 * Settings bp reads itself beyond a revision's: a deployment's rollout strategy (`rollout:`) and
 * the environment's webhooks (`notifications:`). Pure. A change is an `update` step showing each
 * field old -> new; applying it records the new value (docs/design.md#update-steps). Nothing
 * secret is recorded or shown: references stay as written, a literal URL path is masked.
 */
import { createHash } from 'node:crypto';
import type { Deployment, Environment, Notification } from '../model/environment.js';
import { ENVIRONMENT_SCOPE, stepId, type FieldChange, type PlanStep } from '../model/plan.js';
import type { Mutation, RecordedDeployment, RecordedNotification, RecordedState } from '../model/state.js';
import { fieldChanges } from './review.js';
import { isActive } from './rollout.js';

const REFERENCE = /\$\{[^}]*\}/g;
/** What may stay as written once references are taken out: a scheme and a host, nothing after them. */
const ORIGIN_ONLY = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@]*)?\/?$/;

/** A webhook as state records it and plans show it. */
export function recordedNotification(n: Notification): RecordedNotification {
  return {
    url: recordedUrl(n.url),
    events: [...n.events],
    ...(n.secret !== undefined ? { secret: recordedSecret(n.secret) } : {}),
  };
}

/**
 * The secret's reference as written. Validation refuses a literal secret in a file, but an
 * environment built in code (the programmatic API) skips it: anything besides references is masked.
 */
function recordedSecret(secret: string): string {
  return secret.replace(REFERENCE, '') === '' ? secret : `(sensitive, sha256:${fingerprint(secret)})`;
}

function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * The URL as written when all it holds besides references is an origin; otherwise (a literal
 * path, query or user part: where chat webhooks put their tokens) the origin and a fingerprint
 * of the text as written, `https://hooks.example.com/… (sha256:0123456789ab)`.
 */
export function recordedUrl(url: string): string {
  if (ORIGIN_ONLY.test(url.replace(REFERENCE, ''))) return url;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:[^/?#]*@)?([^/?#]*)/.exec(url);
  return `${m ? `${m[1]}${m[2]}` : ''}/… (sha256:${fingerprint(url)})`;
}

export function notificationChanges(recorded: RecordedState | null, desired: Environment): FieldChange[] {
  return fieldChanges(recorded?.notifications ?? [], desired.notifications.map(recordedNotification), 'notifications');
}

/** The environment's own `update` step (`update:@environment`), or null when nothing changed. */
export function environmentUpdateStep(
  desired: Environment,
  recorded: RecordedState | null,
  o: { destroy: boolean; targets: readonly string[] },
): PlanStep | null {
  // `--target` narrows a plan to deployments; a destroy records nothing but teardown.
  if (o.destroy || o.targets.length > 0) return null;
  const changes = notificationChanges(recorded, desired);
  if (changes.length === 0) return null;
  return updateStep(ENVIRONMENT_SCOPE, changes, `notifications changed: ${fieldList(changes)}`);
}

/** A deployment's rollout strategy `update` step (`update:DEPLOYMENT`), or null when nothing changed. */
export function strategyUpdateStep(
  desired: Deployment | null,
  recorded: RecordedDeployment | null,
  destroy: boolean,
): PlanStep | null {
  // A deployment bp has not recorded yet records its strategy with its first step (outcome.ts).
  if (destroy || desired === null || recorded === null) return null;
  const changes = fieldChanges(recorded.rollout_strategy ?? null, desired.rollout ?? null, 'rollout');
  if (changes.length === 0) return null;
  const step = updateStep(desired.deployment_id, changes, `rollout strategy changed: ${fieldList(changes)}`);
  const p = recorded.rollout;
  if (isActive(p)) {
    step.note =
      `the rollout of ${p.canary} in progress keeps the ${p.steps.length} steps it began with; ` +
      'the new strategy applies from the next rollout';
  }
  return step;
}

/** What an applied settings `update` step (no revision) records. */
export function settingsMutations(step: PlanStep, desired: Environment): Mutation[] {
  if (step.deployment_id === ENVIRONMENT_SCOPE) {
    return [{ kind: 'notifications', notifications: desired.notifications.map(recordedNotification) }];
  }
  const d = desired.deployments.find((x) => x.deployment_id === step.deployment_id);
  return d
    ? [{ kind: 'rollout_strategy', deployment_id: d.deployment_id, strategy: structuredClone(d.rollout ?? null) }]
    : [];
}

function updateStep(deploymentId: string, changes: FieldChange[], reason: string): PlanStep {
  return {
    id: stepId('update', deploymentId, null),
    verb: 'update',
    deployment_id: deploymentId,
    revision_id: null,
    depends_on: [],
    reason,
    changes,
  };
}

function fieldList(changes: readonly FieldChange[]): string {
  return changes.map((c) => c.field).join(', ');
}
