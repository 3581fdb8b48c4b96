/** Bounded retries with exponential backoff and full jitter, and per-call timeouts. */
import { AbortedError, TimeoutError, isRetryable } from '../model/errors.js';
import { setLongTimeout, type LongTimer } from './long-timer.js';

export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 15_000 };

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^attempt)]. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

/** The longest a provider's Retry-After is honoured: beyond it the step's own timeout decides. */
export const MAX_RETRY_AFTER_MS = 300_000;

/**
 * The wait before the next attempt: the backoff, but never sooner than a throttling provider
 * asked (`retryAfterMs` on the error, set by the kit's classifier from Retry-After).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  e: unknown,
  random: () => number = Math.random,
): number {
  const backoff = backoffDelayMs(policy, attempt, random);
  const after = (e as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof after !== 'number' || !Number.isFinite(after) || after <= 0) return backoff;
  return Math.max(backoff, Math.min(after, MAX_RETRY_AFTER_MS));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const t = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      t.clear();
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` with a signal that aborts on `parent` or after `timeoutMs`. A deployer that
 * ignores its signal still loses the race: the timeout rejects regardless.
 */
export async function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  parent: AbortSignal,
  what: string,
): Promise<T> {
  const ctl = new AbortController();
  const onParent = () => ctl.abort(parent.reason);
  if (parent.aborted) ctl.abort(parent.reason);
  else parent.addEventListener('abort', onParent, { once: true });
  let timer: LongTimer | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setLongTimeout(() => {
      const err = new TimeoutError(`${what} did not finish within ${Math.round(timeoutMs / 1000)}s`);
      ctl.abort(err);
      reject(err);
    }, timeoutMs);
  });
  let onInterrupt = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onInterrupt = () => reject(new AbortedError(`${what} was interrupted`));
    if (parent.aborted) onInterrupt();
    else parent.addEventListener('abort', onInterrupt, { once: true });
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn(ctl.signal)), timedOut, aborted]);
  } finally {
    timer?.clear();
    parent.removeEventListener('abort', onParent);
    parent.removeEventListener('abort', onInterrupt);
  }
}

export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isRetryable(e) || attempt + 1 >= policy.attempts || signal.aborted) throw e;
      const delay = retryDelayMs(policy, attempt, e);
      onRetry?.(attempt + 1, e, delay);
      await sleep(delay, signal);
    }
  }
}
