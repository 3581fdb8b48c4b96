/**
 * bp embedded in a service (docs/api.md): load an env file, plan, apply, destroy, read state
 * and the runtime config, in-process. Nothing here prints, prompts or exits: progress goes to
 * `onEvent` (the `--json` stream's lines), failures are thrown as BpError with a stable `code`.
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { loadDesired, type Desired } from './apply/desired.js';
import * as engine from './apply/engine.js';
import type { ApplyResult } from './apply/events.js';
import { readRuntimeConfig as readMaterialized } from './apply/runtime-config.js';
import type { Logger, RuntimeConfig } from './model/deployer.js';
import type { Plan } from './model/plan.js';
import { DEFAULT_HISTORY_LIMIT, type RecordedState } from './model/state.js';
import { actorFrom } from './plan/history.js';
import { openStateBackend } from './state/index.js';
import type { StateBackend } from './state/backend.js';
import { streamLine, type StreamLine } from './apply/event-stream.js';

export type { StreamLine } from './apply/event-stream.js';
export type { ApplyResult, StepOutcome } from './apply/events.js';

/** Where state lives and where progress goes. Every field is optional. */
export interface BpOptions {
  /** Local state directory (default `./.bp`, resolved against the process cwd). */
  stateDir?: string;
  /** A state backend URL such as `postgres://...`; empty or absent: local files in `stateDir`. */
  backend?: string;
  /** Each engine event, as the `--json` stream would print it (schemas/apply-event.schema.json). */
  onEvent?: (e: StreamLine) => void;
  /** Deployer log lines; default: dropped. */
  logger?: Logger;
  /** Where `${env:NAME}` references resolve from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** An env file loaded and validated: pass it to `plan`, `apply` and `destroy`. */
export interface LoadedEnvironment {
  readonly file: string;
  readonly environmentId: string;
  /** `FILE:LINE:COL: warning: ...` lines (for example an unsigned webhook). */
  readonly warnings: readonly string[];
  /** @internal the engine's view of it */
  readonly desired: Desired;
}

export interface LoadEnvironmentOptions {
  /** Overlay files merged onto the environment file in order (`--overlay`). */
  overlays?: string[];
  /** `${var:NAME}` values (`--var NAME=VALUE`). */
  vars?: Record<string, string>;
}

export interface PlanOptions extends BpOptions {
  /** Ask the deployers what really runs first (default true). */
  refresh?: boolean;
  /** Plan only these deployments (`--target`). */
  targets?: string[];
}

export interface ApplyOptions extends PlanOptions {
  /** A plan from `plan()`: applied only if recorded state has not moved since it was made. */
  plan?: Plan;
  /** Steps run at once (default 4). */
  parallelism?: number;
  /** How long to wait for the state lock, in ms (default 0: fail at once when held). */
  lockTimeoutMs?: number;
  /** Attempts per step for retryable failures (default 3). */
  retries?: number;
  /** How long rollouts may wait through timed pauses, in ms (default 0: return when paused). */
  rolloutWaitMs?: number;
  /** Aborting stops starting new steps and lets running ones finish, as Ctrl-C does. */
  signal?: AbortSignal;
  /** Asked with the plan when it has changes; resolve false to cancel. Default: approve. */
  confirm?: (plan: Plan) => boolean | Promise<boolean>;
  /** Recorded in history as who ran this (default: the OS user). */
  user?: string;
}

export interface ApplyReport {
  plan: Plan;
  /** Null when there was nothing to do or `confirm` declined. */
  result: ApplyResult | null;
  cancelled: boolean;
  /** Recorded state afterwards (null after a destroy removed everything, or when nothing ran). */
  state: RecordedState | null;
  /** True when every step succeeded (or there was nothing to do) and nothing is left waiting. */
  ok: boolean;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function context(opts: BpOptions): Promise<engine.EngineContext> {
  const stateDir = resolve(opts.stateDir ?? '.bp');
  const backend = await openStateBackend({ stateDir, backend: opts.backend || undefined });
  const onEvent = opts.onEvent;
  return {
    backend,
    stateDir,
    logger: opts.logger ?? quiet,
    emit: onEvent ? (e) => onEvent(streamLine(e)) : () => undefined,
    clock: () => new Date(),
    vars: opts.env ?? process.env,
  };
}

async function withBackend<T>(
  opts: BpOptions,
  fn: (backend: StateBackend, stateDir: string) => Promise<T>,
): Promise<T> {
  const stateDir = resolve(opts.stateDir ?? '.bp');
  const backend = await openStateBackend({ stateDir, backend: opts.backend || undefined });
  try {
    return await fn(backend, stateDir);
  } finally {
    await backend.close();
  }
}

/** Reads, validates and resolves variables and overlays of an env file; throws InvalidInputError with every problem. */
export async function loadEnvironment(file: string, options: LoadEnvironmentOptions = {}): Promise<LoadedEnvironment> {
  const desired = await loadDesired(file, { overlays: options.overlays, vars: options.vars });
  return { file, environmentId: desired.env.environment_id, warnings: desired.warnings, desired };
}

function planRequest(env: LoadedEnvironment, opts: PlanOptions, destroy: boolean): engine.PlanRequest {
  return {
    desired: env.desired.env,
    baseDir: env.desired.baseDir,
    source: env.desired.parsed,
    locate: env.desired.locate,
    targets: opts.targets,
    destroy,
    refresh: opts.refresh !== false,
  };
}

/** What `apply` would do, against recorded state (and, with refresh, what really runs). Changes nothing. */
export async function planEnvironment(env: LoadedEnvironment, opts: PlanOptions = {}): Promise<Plan> {
  const ctx = await context(opts);
  try {
    return (await engine.planEnvironment(ctx, planRequest(env, opts, false))).plan;
  } finally {
    await ctx.backend.close();
  }
}

async function run(env: LoadedEnvironment, opts: ApplyOptions, operation: 'apply' | 'destroy'): Promise<ApplyReport> {
  const ctx = await context(opts);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  let user = opts.user;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = process.env.USER ?? 'unknown';
    }
  }
  try {
    const outcome = await engine.applyEnvironment(ctx, {
      ...planRequest(env, opts, operation === 'destroy'),
      operation,
      savedPlan: opts.plan,
      lockTimeoutMs: opts.lockTimeoutMs ?? 0,
      parallelism: opts.parallelism ?? 4,
      retry: { attempts: opts.retries ?? 3, baseDelayMs: 500, maxDelayMs: 15_000 },
      rolloutWaitMs: opts.rolloutWaitMs ?? 0,
      confirm: async (plan) => (opts.confirm ? await opts.confirm(plan) : true),
      stop: stop.signal,
      // No second Ctrl-C in a library: a hard stop is never requested.
      kill: new AbortController().signal,
      history: { actor: actorFrom(user, hostname(), ctx.vars), limit: DEFAULT_HISTORY_LIMIT },
    });
    const r = outcome.result;
    return {
      plan: outcome.plan,
      result: r,
      cancelled: outcome.cancelled,
      state: outcome.state,
      ok: !outcome.cancelled && (!r || (!r.interrupted && r.failed + r.skipped + r.notStarted + r.held === 0)),
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await ctx.backend.close();
  }
}

/** Plans and runs the changes (or `opts.plan`), recording every step. */
export function applyEnvironment(env: LoadedEnvironment, opts: ApplyOptions = {}): Promise<ApplyReport> {
  return run(env, opts, 'apply');
}

/** Drains and archives everything the environment runs. */
export function destroyEnvironment(env: LoadedEnvironment, opts: ApplyOptions = {}): Promise<ApplyReport> {
  return run(env, opts, 'destroy');
}

/** Recorded state of an environment, or null when none is recorded. */
export function readState(environmentId: string, opts: BpOptions = {}): Promise<RecordedState | null> {
  return withBackend(opts, (backend) => backend.load(environmentId));
}

/** Environments with recorded state in the backend. */
export function listEnvironments(opts: BpOptions = {}): Promise<string[]> {
  return withBackend(opts, (backend) => backend.list());
}

/** The runtime config (schemas/runtime-config.schema.json), or null when no state is recorded. */
export function readRuntimeConfig(environmentId: string, opts: BpOptions = {}): Promise<RuntimeConfig | null> {
  return withBackend(opts, async (backend, stateDir) => {
    const state = await backend.load(environmentId);
    return state ? readMaterialized(stateDir, state) : null;
  });
}
