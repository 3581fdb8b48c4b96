/**
 * One polling loop for every "wait until it is so" in a deployer: health checks while warming,
 * in-flight requests while draining, a router coming up, a cloud operation finishing. The
 * condition is checked at once, then every `intervalMs`, and one last time at the deadline.
 */
import { TimeoutError } from '../../model/errors.js';
import { type Clock, systemClock, throwIfAborted } from './abort.js';

/** What one check found: done with a value, or not yet (with what it saw, for messages). */
export type PollCheck<T> = { done: true; value: T } | { done: false; detail?: string };

export const done = <T>(value: T): PollCheck<T> => ({ done: true, value });
export const pending = (detail?: string): PollCheck<never> => ({ done: false, detail });

export interface PollProgress {
  /** What is awaited, e.g. `revision "web-v2" to answer /healthz`. */
  what: string;
  attempt: number;
  elapsedMs: number;
  remainingMs: number;
  /** What the last check saw. */
  detail?: string;
}

export interface PollOptions {
  /** What is awaited, worded to follow "waiting for": used in progress, abort and timeout messages. */
  what: string;
  /** How long to wait in all (the deadline is now + timeoutMs). */
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  /** What the wait is part of, for the Aborted message ("<during> was aborted"), e.g. `warming "web-v2"`. */
  during?: string;
  /** Called after every check that was not done yet (progress lines, debug logs). */
  onProgress?: (p: PollProgress) => void;
  clock?: Clock;
}

export interface PollUntilOptions extends PollOptions {
  /** The error for a deadline that passed (default: a retryable `Timeout` naming `what` and the last detail). */
  onTimeout?: (p: PollProgress) => Error | Promise<Error>;
}

type Outcome<T> = { met: true; value: T } | { met: false; last: PollProgress };

async function poll<T>(
  check: (attempt: number) => Promise<PollCheck<T>> | PollCheck<T>,
  o: PollOptions,
): Promise<Outcome<T>> {
  const clock = o.clock ?? systemClock;
  const start = clock.now();
  const deadline = start + o.timeoutMs;
  const during = o.during ?? `waiting for ${o.what}`;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(o.signal, during);
    const r = await check(attempt);
    if (r.done) return { met: true, value: r.value };
    const now = clock.now();
    const p: PollProgress = {
      what: o.what,
      attempt,
      elapsedMs: now - start,
      remainingMs: Math.max(0, deadline - now),
      detail: r.detail,
    };
    if (now >= deadline) return { met: false, last: p };
    o.onProgress?.(p);
    await clock.sleep(Math.min(o.intervalMs, deadline - now), o.signal, during);
  }
}

/**
 * Checks until `check` is done and returns its value; throws the `onTimeout` error once the
 * deadline passes, and `Aborted` as soon as the signal fires.
 */
export async function pollUntil<T>(
  check: (attempt: number) => Promise<PollCheck<T>> | PollCheck<T>,
  o: PollUntilOptions,
): Promise<T> {
  const r = await poll(check, o);
  if (r.met) return r.value;
  if (o.onTimeout) throw await o.onTimeout(r.last);
  const seconds = Math.round(o.timeoutMs / 100) / 10;
  throw new TimeoutError(`waited ${seconds}s for ${o.what}${r.last.detail ? ` (last: ${r.last.detail})` : ''}`);
}

/**
 * Like `pollUntil` for waits that are bounded on purpose (a drain waits for in-flight requests
 * at most drain_seconds): true when the condition held, false when the deadline passed.
 */
export async function waitUntil(
  condition: () => Promise<boolean | PollCheck<unknown>> | boolean | PollCheck<unknown>,
  o: PollOptions,
): Promise<boolean> {
  const r = await poll(async () => {
    const c = await condition();
    return typeof c === 'boolean' ? (c ? done(true) : pending()) : c;
  }, o);
  return r.met;
}
