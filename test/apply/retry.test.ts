import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, retryDelayMs, withRetries, type RetryPolicy } from '../../src/apply/retry.js';
import { ProviderError } from '../../src/model/errors.js';

const policy: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };
const alwaysMax = () => 0.999999;

describe('retry delay', () => {
  it('is the jittered backoff when the provider named no wait', () => {
    const e = new ProviderError('boom', { retryable: true });
    expect(retryDelayMs(policy, 0, e, alwaysMax)).toBe(99);
    expect(retryDelayMs(policy, 0, e, () => 0)).toBe(0);
  });

  it("is never sooner than a throttling provider's Retry-After", () => {
    const e = new ProviderError('slow down', { retryable: true, retryAfterMs: 7000 });
    expect(retryDelayMs(policy, 0, e, () => 0)).toBe(7000);
    expect(retryDelayMs(policy, 0, e, alwaysMax)).toBe(7000);
  });

  it('keeps the longer backoff when Retry-After is shorter, and caps an absurd Retry-After', () => {
    expect(retryDelayMs(policy, 3, new ProviderError('x', { retryable: true, retryAfterMs: 1 }), alwaysMax)).toBe(799);
    const huge = new ProviderError('x', { retryable: true, retryAfterMs: 10 * 24 * 3600 * 1000 });
    expect(retryDelayMs(policy, 0, huge, () => 0)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('withRetries reports the Retry-After delay it waits', async () => {
    const delays: number[] = [];
    let calls = 0;
    const out = await withRetries(
      async () => {
        calls++;
        if (calls === 1) throw new ProviderError('throttled', { retryable: true, retryAfterMs: 30 });
        return 'ok';
      },
      { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      new AbortController().signal,
      (_attempt, _e, delay) => delays.push(delay),
    );
    expect(out).toBe('ok');
    expect(calls).toBe(2);
    expect(delays).toEqual([30]);
  });
});
