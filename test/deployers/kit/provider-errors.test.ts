import { describe, expect, it } from 'vitest';
import {
  type Classifier,
  parseRetryAfter,
  providerCall,
  providerCallOrNull,
  type ProviderFailure,
} from '../../../src/deployers/kit/provider-errors.js';
import { ProviderError } from '../../../src/model/errors.js';

const classify: Classifier = (e) => e as ProviderFailure;
const call = (signal?: AbortSignal) => ({
  what: 'create thing',
  signal,
  classify,
  describe: (f: ProviderFailure, what: string) => `${what}: ${f.code}`,
});
const fail = (f: Partial<ProviderFailure>) => () =>
  Promise.reject({ kind: 'rejected', status: 400, code: 'Bad', message: 'm', ...f });

describe('provider error shape', () => {
  it('retryable and throttled kinds are retryable; throttling carries retry-after', async () => {
    await expect(providerCall(call(), fail({ kind: 'retryable', code: 'Busy' }))).rejects.toMatchObject({
      code: 'Provider',
      retryable: true,
      message: 'create thing: Busy',
    });
    const e = await providerCall(call(), fail({ kind: 'throttled', retryAfterMs: 3000 })).catch((x) => x);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: true, retryAfterMs: 3000 });
  });

  it('quota, auth, not-found and rejected need a person', async () => {
    for (const kind of ['quota', 'auth', 'not-found', 'rejected'] as const) {
      await expect(providerCall(call(), fail({ kind }))).rejects.toMatchObject({ code: 'Provider', retryable: false });
    }
  });

  it('an aborted call is Aborted and the call is never made under a fired signal', async () => {
    let made = false;
    await expect(
      providerCall(call(AbortSignal.abort()), async () => {
        made = true;
      }),
    ).rejects.toMatchObject({
      code: 'Aborted',
      message: 'create thing was aborted',
    });
    expect(made).toBe(false);
  });

  it('providerCallOrNull turns not-found into null and passes everything else on', async () => {
    expect(await providerCallOrNull(call(), fail({ kind: 'not-found' }))).toBeNull();
    await expect(providerCallOrNull(call(), fail({ kind: 'auth' }))).rejects.toMatchObject({ retryable: false });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(2)).toBe(2000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 03:00:10 GMT', Date.parse('Wed, 02 Dec 2026 03:00:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
