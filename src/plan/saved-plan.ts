/**
 * Saved plans (`bp plan --out`) are input like env files: anyone can edit the JSON between
 * plan and apply. A saved plan carries a sha256 digest over a canonical form of its content,
 * and on apply (and show) it is re-validated: its environment with the env file rules, its
 * plan with the same id, weight and bound rules, no control characters anywhere.
 */
import { createHash } from 'node:crypto';
import { FULL_WEIGHT_BPS, ID_REGEX, type Environment } from '../model/environment.js';
import { BpError, InvalidInputError } from '../model/errors.js';
import { escapeControls } from '../model/escape.js';
import { ENVIRONMENT_SCOPE, PLAN_FORMAT, stepId, summarize, VERBS, type PlanFile } from '../model/plan.js';
import { LIFECYCLE_STATES } from '../model/state.js';
import { parseEnvironment } from '../spec/index.js';

export const PLANFILE_FORMAT = 'bp.planfile/v1';
/** More steps than any real environment plans; a bound on the work a hostile file can ask for. */
export const MAX_PLAN_STEPS = 20_000;

/** JSON with object keys sorted at every level: the same content always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** `sha256:HEX` over the canonical form of everything in the file but the digest itself. */
export function planFileDigest(file: Omit<PlanFile, 'digest'> & { digest?: unknown }): string {
  const { digest: _omit, ...content } = file;
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}

export function withDigest(file: Omit<PlanFile, 'digest'>): PlanFile {
  return { ...file, digest: planFileDigest(file) };
}

function refuse(path: string, why: string): never {
  throw new BpError(
    'InvalidInput',
    `saved plan ${escapeControls(path)} ${why}; make a new one with: bp plan ENV_FILE --out ${escapeControls(path)}`,
  );
}

// C0 and C1 controls, DEL, and the bidi overrides/isolates that reorder what a terminal shows.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * Checks a parsed saved plan; returns it typed, or throws an InvalidInput BpError naming what
 * is wrong. `doc` is whatever JSON.parse gave (already known to carry the planfile marker).
 */
export function checkSavedPlan(doc: unknown, path: string): PlanFile {
  if (!isObject(doc)) refuse(path, 'is not a JSON object');
  if (doc.format_version !== PLANFILE_FORMAT) refuse(path, `is not a ${PLANFILE_FORMAT} file`);
  if (typeof doc.digest !== 'string') {
    refuse(path, 'has no digest: it was not written by bp plan --out, or the digest was removed');
  }
  const expected = planFileDigest(doc as unknown as PlanFile);
  if (doc.digest !== expected) {
    refuse(
      path,
      `was changed after bp plan wrote it: its content digest is ${expected}, the file says ${String(doc.digest).slice(0, 80)}`,
    );
  }
  for (const key of Object.keys(doc)) {
    if (!['format_version', 'created_at', 'source_file', 'desired', 'plan', 'digest'].includes(key)) {
      refuse(path, `has an unknown field ${JSON.stringify(key)}`);
    }
  }
  if (typeof doc.created_at !== 'string' || Number.isNaN(Date.parse(doc.created_at))) {
    refuse(path, 'has no valid created_at time');
  }
  if (typeof doc.source_file !== 'string' || !doc.source_file.startsWith('/') || CONTROL.test(doc.source_file)) {
    refuse(path, 'has no valid source_file (an absolute path without control characters)');
  }
  const desired = checkEnvironment(doc.desired, path);
  const problem = planProblem(doc.plan, desired);
  if (problem) refuse(path, `is invalid: ${problem}`);
  return doc as unknown as PlanFile;
}

/** The environment goes through the env file parser; what comes out must be what went in. */
function checkEnvironment(env: unknown, path: string): Environment {
  if (!isObject(env)) refuse(path, 'has no desired environment');
  let parsed;
  try {
    parsed = parseEnvironment(JSON.stringify(asWritten(dropNulls(env))), `${path} (desired environment)`);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      const first = e.problems
        .slice(0, 3)
        .map((p) => p.message)
        .join('; ');
      refuse(path, `has an invalid environment: ${escapeControls(first)}`);
    }
    throw e;
  }
  if (canonicalJson(dropNulls(parsed.env)) !== canonicalJson(dropNulls(env))) {
    refuse(path, 'has an environment that is not in the normalized form bp plan writes');
  }
  return parsed.env;
}

/**
 * A revision the file gave no `state:` is normalized to `state: ready, state_defaulted: true`;
 * written back as a file it has neither key, so parsing it again gives the same revision.
 * Anything else (`state_defaulted` not true, or with another state) stays and is refused.
 */
function asWritten(env: unknown): unknown {
  if (!isObject(env) || !Array.isArray(env.deployments)) return env;
  return {
    ...env,
    deployments: env.deployments.map((d: unknown) =>
      isObject(d) && Array.isArray(d.revisions)
        ? {
            ...d,
            revisions: d.revisions.map((r: unknown) => {
              if (!isObject(r) || r.state_defaulted !== true || r.state !== 'ready') return r;
              const { state: _state, state_defaulted: _defaulted, ...rest } = r;
              return rest;
            }),
          }
        : d,
    ),
  };
}

/** Normalized environments spell "not set" as null; env files leave the key out. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isObject(v))
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== null)
        .map(([k, x]) => [k, dropNulls(x)]),
    );
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isId = (v: unknown): v is string => typeof v === 'string' && ID_REGEX.test(v);
const isWeight = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= FULL_WEIGHT_BPS;
const show = (v: unknown) => escapeControls(JSON.stringify(v)?.slice(0, 80) ?? String(v));

function controlString(v: unknown, at: string): string | null {
  if (typeof v === 'string') return CONTROL.test(v) ? `${at} contains a control character` : null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = controlString(v[i], `${at}[${i}]`);
      if (p) return p;
    }
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = CONTROL.test(k) ? `${at} has a key with a control character` : controlString(x, `${at}.${k}`);
      if (p) return p;
    }
  }
  return null;
}

function splitProblem(v: unknown, at: string, full: boolean): string | null {
  if (!Array.isArray(v)) return `${at} is not a list of {revision_id, weight_bps}`;
  let sum = 0;
  const seen = new Set<string>();
  for (const [i, e] of v.entries()) {
    if (!isObject(e) || !isId(e.revision_id))
      return `${at}[${i}] has no valid revision_id (${show(isObject(e) ? e.revision_id : e)})`;
    if (!isWeight(e.weight_bps))
      return `${at}[${i}] weight_bps ${show(e.weight_bps)} is not an integer 0..${FULL_WEIGHT_BPS}`;
    if (seen.has(e.revision_id)) return `${at} names revision "${e.revision_id}" twice`;
    seen.add(e.revision_id);
    sum += e.weight_bps;
  }
  if (full && v.length > 0 && sum !== FULL_WEIGHT_BPS) return `${at} weights sum to ${sum}, not ${FULL_WEIGHT_BPS}`;
  return null;
}

function rolloutProblem(r: unknown, at: string): string | null {
  if (!isObject(r)) return `${at} is not an object`;
  if (!isId(r.canary)) return `${at}.canary ${show(r.canary)} is not a valid id`;
  if (typeof r.begins !== 'boolean') return `${at}.begins is not true or false`;
  if (r.on_failure !== 'rollback' && r.on_failure !== 'pause') return `${at}.on_failure is not rollback or pause`;
  const stable = splitProblem(r.stable, `${at}.stable`, true);
  if (stable) return stable;
  if (!Array.isArray(r.steps) || r.steps.length > 1000) return `${at}.steps is not a list of at most 1000 steps`;
  for (const [i, s] of r.steps.entries()) {
    if (!isObject(s)) return `${at}.steps[${i}] is not an object`;
    if ('weight_bps' in s && !isWeight(s.weight_bps))
      return `${at}.steps[${i}].weight_bps ${show(s.weight_bps)} is not an integer 0..${FULL_WEIGHT_BPS}`;
    if (!('weight_bps' in s) && !isObject(s.pause) && !isObject(s.analysis))
      return `${at}.steps[${i}] is not a weight, pause or analysis step`;
  }
  if (!Number.isInteger(r.from_step) || (r.from_step as number) < 0 || (r.from_step as number) > r.steps.length) {
    return `${at}.from_step ${show(r.from_step)} is not a step index`;
  }
  return null;
}

/** The first thing wrong with a saved plan's `plan`, or null. */
export function planProblem(plan: unknown, desired: Environment): string | null {
  if (!isObject(plan)) return 'plan is not an object';
  if (plan.format_version !== PLAN_FORMAT) return `plan.format_version is not ${PLAN_FORMAT}`;
  if (plan.environment_id !== desired.environment_id) {
    return `plan.environment_id ${show(plan.environment_id)} differs from the environment's "${desired.environment_id}"`;
  }
  const prior = plan.prior;
  if (!isObject(prior) || !Number.isSafeInteger(prior.serial) || (prior.serial as number) < 0)
    return 'plan.prior.serial is not a serial number';
  if (prior.lineage !== null && !(typeof prior.lineage === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(prior.lineage))) {
    return `plan.prior.lineage ${show(prior.lineage)} is not a lineage id`;
  }
  if (typeof plan.changes !== 'boolean' || typeof plan.destroy !== 'boolean')
    return 'plan.changes and plan.destroy must be true or false';
  if (!Array.isArray(plan.targets) || !plan.targets.every(isId)) return 'plan.targets is not a list of deployment ids';
  if (!Array.isArray(plan.steps)) return 'plan.steps is not a list';
  if (plan.steps.length > MAX_PLAN_STEPS) return `plan has ${plan.steps.length} steps, more than ${MAX_PLAN_STEPS}`;
  const ids = new Set<string>();
  for (const [i, step] of plan.steps.entries()) {
    const p = stepProblem(step, `plan.steps[${i}]`, ids);
    if (p) return p;
  }
  if (plan.changes !== plan.steps.length > 0) return 'plan.changes does not match its steps';
  const control = controlString(plan, 'plan');
  if (control) return control;
  for (const key of ['drift', 'expired', 'rollouts'] as const) {
    if (!Array.isArray(plan[key])) return `plan.${key} is not a list`;
  }
  if (canonicalJson(plan.summary) !== canonicalJson(summarize(plan.steps as never)))
    return 'plan.summary does not match its steps';
  return null;
}

function stepProblem(step: unknown, at: string, ids: Set<string>): string | null {
  if (!isObject(step)) return `${at} is not an object`;
  if (!VERBS.includes(step.verb as never)) return `${at}.verb ${show(step.verb)} is not one of ${VERBS.join(', ')}`;
  const split = step.verb === 'apply_traffic_split';
  // Update steps of a deployment's or the environment's settings name no revision.
  const settings = step.verb === 'update' && step.revision_id === null;
  if (!isId(step.deployment_id) && !(settings && step.deployment_id === ENVIRONMENT_SCOPE))
    return `${at}.deployment_id ${show(step.deployment_id)} is not a valid id`;
  if (split ? step.revision_id !== null : !settings && !isId(step.revision_id)) {
    return `${at}.revision_id ${show(step.revision_id)} is not ${split ? 'null for a split step' : 'a valid id'}`;
  }
  const id = stepId(step.verb as never, step.deployment_id, step.revision_id as string | null);
  if (step.id !== id) return `${at}.id ${show(step.id)} should be "${id}"`;
  if (ids.has(id)) return `${at} repeats step "${id}"`;
  ids.add(id);
  if (!Array.isArray(step.depends_on) || !step.depends_on.every((d) => typeof d === 'string'))
    return `${at}.depends_on is not a list of step ids`;
  if (typeof step.reason !== 'string') return `${at}.reason is not text`;
  for (const key of ['from', 'to'] as const) {
    if (step[key] !== undefined && !LIFECYCLE_STATES.includes(step[key] as never))
      return `${at}.${key} ${show(step[key])} is not a lifecycle state`;
  }
  if (split) {
    if (!isObject(step.split)) return `${at} is a split step without split.before and split.after`;
    const p =
      splitProblem(step.split.before, `${at}.split.before`, false) ??
      splitProblem(step.split.after, `${at}.split.after`, true);
    if (p) return p;
    if (step.rollout !== undefined) return rolloutProblem(step.rollout, `${at}.rollout`);
  } else if (step.split !== undefined || step.rollout !== undefined) {
    return `${at} is a ${String(step.verb)} step carrying a split`;
  }
  return null;
}
