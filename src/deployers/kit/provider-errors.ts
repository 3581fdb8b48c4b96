/**
 * One shape for what a provider said, whatever the provider: each cloud deployer's classifier
 * reads its SDK's error into a `ProviderFailure`, and `failureError` turns that into the
 * `ProviderError` bp acts on. Whether to try again is decided here, from the kind, so every
 * deployer answers that question the same way; the engine does the retrying (with backoff,
 * and no sooner than a throttling provider's retry-after).
 */
import { AbortedError, BpError, ProviderError } from '../../model/errors.js';

export type FailureKind =
  /** Trying the same call again may work (5xx, network, eventual consistency, a busy resource). */
  | 'retryable'
  /** The provider is rate-limiting bp: retry, no sooner than `retryAfterMs` when it said so. */
  | 'throttled'
  /** A quota or limit is reached: a person frees capacity or raises the limit. */
  | 'quota'
  /** Credentials missing, rejected or lacking a permission. */
  | 'auth'
  /** The resource does not exist (often expected: callers may treat it as absent). */
  | 'not-found'
  /** Anything else the provider refused (invalid request, conflict with someone else's change). */
  | 'rejected';

export interface ProviderFailure {
  kind: FailureKind;
  /** HTTP status, 0 when there was no answer at all. */
  status: number;
  /** The provider's own error code or reason, '' when it gave none. */
  code: string;
  message: string;
  /** How long the provider asked bp to wait (throttling), when it said. */
  retryAfterMs?: number;
}

/** Reads whatever an SDK threw into the common shape. */
export type Classifier = (e: unknown) => ProviderFailure;

export const isRetryableKind = (kind: FailureKind): boolean => kind === 'retryable' || kind === 'throttled';

/**
 * The error bp reports for a failure: `message` is the operator-facing sentence (the caller
 * words it, naming the provider and the operation); retryable and retry-after come from the kind.
 */
export function failureError(f: ProviderFailure, message: string, cause: unknown): ProviderError {
  return new ProviderError(message, {
    cause,
    retryable: isRetryableKind(f.kind),
    ...(f.kind === 'throttled' && f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
  });
}

/** A `Retry-After` value (delta-seconds or an HTTP date) in milliseconds, or undefined. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface ProviderCall {
  /** The operation, for messages: "create virtual machine web-vm-0". */
  what: string;
  signal?: AbortSignal;
  classify: Classifier;
  /** The operator-facing sentence for a classified failure. */
  describe: (f: ProviderFailure, what: string) => string;
}

/**
 * Runs one provider call once: an abort before or during it is `Aborted`, bp's own errors pass
 * through, anything else is classified and described. Never retries (the engine does).
 */
export async function providerCall<T>(c: ProviderCall, call: () => Promise<T>): Promise<T> {
  if (c.signal?.aborted) throw new AbortedError(`${c.what} was aborted`);
  try {
    return await call();
  } catch (e) {
    throw toBpError(c, e);
  }
}

/** Like `providerCall`, but a resource that does not exist is `null`, not an error. */
export async function providerCallOrNull<T>(c: ProviderCall, call: () => Promise<T>): Promise<T | null> {
  if (c.signal?.aborted) throw new AbortedError(`${c.what} was aborted`);
  try {
    return await call();
  } catch (e) {
    if (!BpError.is(e) && !c.signal?.aborted && c.classify(e).kind === 'not-found') return null;
    throw toBpError(c, e);
  }
}

/** bp's own errors unchanged; an aborted call is `Aborted`; anything else classified and described. */
export function toBpError(c: ProviderCall, e: unknown): BpError {
  if (BpError.is(e)) return e;
  if (c.signal?.aborted || (e as { name?: unknown } | null)?.name === 'AbortError')
    return new AbortedError(`${c.what} was aborted`);
  const f = c.classify(e);
  return failureError(f, c.describe(f, c.what), e);
}

/**
 * One deployer's provider calls, bound to its classifier and its wording, so each call site
 * names only the operation: `call` runs one SDK call once, `callOrNull` makes not-found `null`,
 * `error` translates a failure caught elsewhere. `fn` is typed `Promise<T> | T` so that, type-
 * checked without the SDK installed (its stand-in types are `any`), T is `any`, not `unknown`.
 */
export function providerCalls(classify: Classifier, describe: ProviderCall['describe']) {
  const at = (what: string, signal: AbortSignal | undefined): ProviderCall => ({ what, signal, classify, describe });
  return {
    call<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T> | T): Promise<T> {
      return providerCall(at(what, signal), async () => fn());
    },
    callOrNull<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T> | T): Promise<T | null> {
      return providerCallOrNull(at(what, signal), async () => fn());
    },
    error(what: string, e: unknown, signal?: AbortSignal): BpError {
      return toBpError(at(what, signal), e);
    },
  };
}
