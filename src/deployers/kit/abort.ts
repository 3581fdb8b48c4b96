/**
 * Waiting that stops when bp is interrupted. Every wait in a deployer goes through `sleep`
 * so an interrupt (Ctrl-C, a verb timeout) ends it at once instead of after the interval.
 */
import { AbortedError } from '../../model/errors.js';

/** Throws `Aborted` ("<what> was aborted") when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(`${what} was aborted`);
}

/** Resolves after `ms`, or rejects with `Aborted` as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal, what = 'waiting'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError(`${what} was aborted`));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(`${what} was aborted`));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Time as the kit's waits see it; tests inject a fake one so no test sleeps. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal, what?: string): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };
