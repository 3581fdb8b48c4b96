import { describe, expect, it } from 'vitest';
import { type Clock, sleep, throwIfAborted } from '../../../src/deployers/kit/abort.js';
import { done, pending, pollUntil, waitUntil } from '../../../src/deployers/kit/poll.js';

/** A clock whose sleeps return at once and advance time: no test waits for real. */
function fakeClock(): Clock & { slept: number[] } {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms, signal, what = 'waiting') => {
      if (signal?.aborted) throw Object.assign(new Error(`${what} was aborted`), { code: 'Aborted' });
      slept.push(ms);
      t += ms;
    },
  };
}

describe('sleep and throwIfAborted', () => {
  it('sleep rejects with Aborted as soon as the signal fires, naming what was awaited', async () => {
    const ctl = new AbortController();
    const p = sleep(60_000, ctl.signal, 'warming "web-v1"');
    ctl.abort();
    await expect(p).rejects.toMatchObject({ code: 'Aborted', message: 'warming "web-v1" was aborted' });
  });

  it('sleep rejects at once on a signal that already fired, and resolves otherwise', async () => {
    await expect(sleep(10, AbortSignal.abort(), 'x')).rejects.toMatchObject({ code: 'Aborted' });
    await expect(sleep(0, new AbortController().signal)).resolves.toBeUndefined();
  });

  it('throwIfAborted throws only for a fired signal', () => {
    expect(() => throwIfAborted(undefined, 'x')).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal, 'x')).not.toThrow();
    expect(() => throwIfAborted(AbortSignal.abort(), 'observing')).toThrow('observing was aborted');
  });
});

describe('pollUntil', () => {
  it('returns the value of the first check that is done, sleeping the interval between checks', async () => {
    const clock = fakeClock();
    let n = 0;
    const progress: number[] = [];
    const value = await pollUntil(() => (++n === 3 ? done('up') : pending(`try ${n}`)), {
      what: 'the thing',
      timeoutMs: 10_000,
      intervalMs: 500,
      clock,
      onProgress: (p) => progress.push(p.attempt),
    });
    expect(value).toBe('up');
    expect(clock.slept).toEqual([500, 500]);
    expect(progress).toEqual([1, 2]);
  });

  it('checks one last time at the deadline, then throws a retryable Timeout naming what and the last detail', async () => {
    const clock = fakeClock();
    let n = 0;
    const p = pollUntil(() => pending(`answer ${++n}`), {
      what: 'revision "a" to answer /',
      timeoutMs: 1200,
      intervalMs: 500,
      clock,
    });
    await expect(p).rejects.toMatchObject({
      code: 'Timeout',
      retryable: true,
      message: 'waited 1.2s for revision "a" to answer / (last: answer 4)',
    });
    expect(clock.slept).toEqual([500, 500, 200]);
  });

  it('uses onTimeout for the error at the deadline', async () => {
    const p = pollUntil(() => pending('503'), {
      what: 'x',
      timeoutMs: 0,
      intervalMs: 10,
      clock: fakeClock(),
      onTimeout: (last) => new Error(`custom ${last.detail}`),
    });
    await expect(p).rejects.toThrow('custom 503');
  });

  it('stops with Aborted when the signal fires between checks, without another check', async () => {
    const ctl = new AbortController();
    let checks = 0;
    const p = pollUntil(
      () => {
        checks++;
        return pending();
      },
      { what: 'the router', timeoutMs: 60_000, intervalMs: 60_000, signal: ctl.signal },
    );
    await Promise.resolve();
    ctl.abort();
    await expect(p).rejects.toMatchObject({ code: 'Aborted', message: 'waiting for the router was aborted' });
    expect(checks).toBe(1);
  });

  it('does not check at all under a signal that already fired', async () => {
    let checks = 0;
    const p = pollUntil(
      () => {
        checks++;
        return done(1);
      },
      { what: 'x', timeoutMs: 1000, intervalMs: 10, signal: AbortSignal.abort() },
    );
    await expect(p).rejects.toMatchObject({ code: 'Aborted' });
    expect(checks).toBe(0);
  });
});

describe('waitUntil', () => {
  it('is true when the condition holds and false once the deadline passed', async () => {
    let n = 0;
    expect(await waitUntil(() => ++n > 2, { what: 'x', timeoutMs: 5000, intervalMs: 100, clock: fakeClock() })).toBe(
      true,
    );
    const clock = fakeClock();
    expect(await waitUntil(async () => false, { what: 'x', timeoutMs: 250, intervalMs: 100, clock })).toBe(false);
    expect(clock.slept).toEqual([100, 100, 50]);
  });
});
