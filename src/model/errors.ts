/**
 * Typed errors with stable codes. Each class carries a `Symbol.for` brand so `isBpError`
 * works across two copies of this library (a plugin bundling its own bp, for instance),
 * where `instanceof` would not.
 */

import { escapeControls } from './escape.js';
import { redact } from './redact.js';

const BRAND = Symbol.for('bp.error');

export type ErrorCode =
  | 'InvalidInput'
  | 'PlanError'
  | 'RevisionNotFound'
  | 'SplitNotFound'
  | 'InvalidSplit'
  | 'RoutingNotReleased'
  | 'Provider'
  | 'StaleState'
  | 'LockHeld'
  | 'StateCorrupt'
  | 'PluginLoad'
  | 'PluginFault'
  | 'Aborted'
  | 'Timeout'
  | 'Usage'
  | 'Io'
  | 'Internal';

export class BpError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }

  static is(e: unknown): e is BpError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Duck-typed code check that also accepts errors from plugins that do not depend on bp. */
export function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}

/** An error's message with every registered secret value redacted (src/model/redact.ts). */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return escapeControls(redact(e.message));
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return escapeControls(redact((e as { message: string }).message));
  }
  return escapeControls(redact(String(e)));
}

export function isRetryable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === true;
}

/** A position in an input file, 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface InputProblem extends SourcePosition {
  message: string;
}

export function formatProblem(p: InputProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

/** Every problem found in an input file, reported together. */
export class InvalidInputError extends BpError {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[], opts: { cause?: unknown } = {}) {
    super('InvalidInput', problems.map(formatProblem).join('\n'), opts);
    this.problems = problems;
  }
}

/** The desired environment cannot be reached from recorded state (e.g. a mutated revision). */
export class PlanError extends BpError {
  readonly problems: string[];
  constructor(problems: string[], opts: { cause?: unknown } = {}) {
    super('PlanError', problems.join('\n'), opts);
    this.problems = problems;
  }
}

export class RevisionNotFoundError extends BpError {
  constructor(revisionId: string, where?: string) {
    super('RevisionNotFound', `revision "${revisionId}" is not in the environment${where ? ` (${where})` : ''}`);
  }
}

export class SplitNotFoundError extends BpError {
  constructor(deploymentId: string) {
    super('SplitNotFound', `deployment "${deploymentId}" has no traffic split`);
  }
}

export class InvalidSplitError extends BpError {
  constructor(message: string) {
    super('InvalidSplit', message);
  }
}

/**
 * A deployer was asked to archive the last revision its deployment's routing names, and bp did
 * not release that routing first. Only `releaseRouting` deletes routing
 * (docs/design.md#traffic-rules); the archive refuses before changing anything.
 */
export class RoutingNotReleasedError extends BpError {
  constructor(deploymentId: string, revisionId: string, routing: string) {
    super(
      'RoutingNotReleased',
      `archiving "${revisionId}" would leave the routing of "${deploymentId}" (${routing}) with no target; ` +
        'bp releases routing (releaseRouting) before archiving the last revision it routes to',
    );
  }
}

/**
 * A provider (cloud API, process, host) failed. `retryable` says whether trying again may help;
 * `retryAfterMs`, when a throttling provider said how long to wait, is the engine's minimum delay.
 */
export class ProviderError extends BpError {
  readonly retryAfterMs?: number;
  constructor(message: string, opts: { cause?: unknown; retryable?: boolean; retryAfterMs?: number } = {}) {
    super('Provider', message, { cause: opts.cause, retryable: opts.retryable ?? false });
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

export class StaleStateError extends BpError {
  constructor(message: string) {
    super('StaleState', message);
  }
}

export interface LockInfo {
  id: string;
  pid: number;
  host: string;
  user: string;
  operation: string;
  created: string;
  /** Start time of `pid` (Linux /proc/PID/stat field 22): tells a live holder from a reused pid. */
  pid_start?: string | null;
}

export class LockHeldError extends BpError {
  readonly holder: LockInfo;
  constructor(environmentId: string, holder: LockInfo) {
    super(
      'LockHeld',
      `state of environment "${environmentId}" is locked by ${holder.user}@${holder.host} pid ${holder.pid} ` +
        `(${holder.operation}, since ${holder.created}, lock id ${holder.id}); ` +
        `wait with --lock-timeout or, if that process is gone, run: bp state unlock ${environmentId} ${holder.id}`,
    );
    this.holder = holder;
  }
}

export class StateCorruptError extends BpError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('StateCorrupt', message, opts);
  }
}

export class PluginLoadError extends BpError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('PluginLoad', message, opts);
  }
}

/** A plugin misbehaved: a malformed result, process.exit, or a throw outside any call. */
export class PluginFaultError extends BpError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('PluginFault', message, opts);
  }
}

export class AbortedError extends BpError {
  constructor(message = 'the operation was aborted') {
    super('Aborted', message);
  }
}

export class TimeoutError extends BpError {
  constructor(message: string) {
    super('Timeout', message, { retryable: true });
  }
}

export class UsageError extends BpError {
  constructor(message: string) {
    super('Usage', message);
  }
}
