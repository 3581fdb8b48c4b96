/**
 * Runs one step on every host at once and reports partial failure per host: the error
 * names each host that failed and why, and is retryable only when every failure is (a
 * retry re-runs the step everywhere, and every step is idempotent per host).
 */
import { BpError, isRetryable, ProviderError } from '../../model/errors.js';
import type { Host } from './host.js';

export async function onHosts<T>(hosts: Host[], what: string, step: (host: Host) => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(hosts.map((h) => step(h)));
  const failures = results
    .map((r, i) => ({ r, host: hosts[i] }))
    .filter((x): x is { r: PromiseRejectedResult; host: Host } => x.r.status === 'rejected');
  if (failures.length === 0) return results.map((r) => (r as PromiseFulfilledResult<T>).value);
  // A precondition or abort is the same on every host: pass it through unchanged.
  const first = failures[0].r.reason;
  if (BpError.is(first) && first.code !== 'Provider' && failures.length === hosts.length) throw first;
  if (hosts.length === 1) {
    if (BpError.is(first)) throw first;
    throw new ProviderError(`${what} failed on ${hosts[0].label}: ${(first as Error)?.message ?? String(first)}`, {
      cause: first,
      retryable: true,
    });
  }
  const detail = failures
    .map(({ r, host }) => `${host.label}: ${(r.reason as Error)?.message ?? String(r.reason)}`)
    .join('; ');
  throw new ProviderError(`${what} failed on ${failures.length} of ${hosts.length} hosts: ${detail}`, {
    cause: first,
    retryable: failures.every(({ r }) => isRetryable(r.reason) || !BpError.is(r.reason)),
  });
}
