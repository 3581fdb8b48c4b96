/** Durations beyond Node's 2^31-1 ms timer limit once fired after 1 ms. */
import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from '../../src/apply/long-timer.js';
import { sleep, withTimeout } from '../../src/apply/retry.js';

const THIRTY_DAYS = 30 * 86_400_000;

describe('long timers', () => {
  it('a 30-day step timeout does not time out a call that finishes in milliseconds', async () => {
    const value = await withTimeout(
      () => new Promise<string>((r) => setTimeout(() => r('done'), 30)),
      THIRTY_DAYS,
      new AbortController().signal,
      'stage web-v1',
    );
    expect(value).toBe('done');
  });

  it('a 30-day sleep is still pending after shorter timers fire, and ends when aborted', async () => {
    const stop = new AbortController();
    let settled = false;
    const slept = sleep(THIRTY_DAYS, stop.signal).then(
      () => (settled = true),
      () => 'aborted',
    );
    await new Promise((r) => setTimeout(r, 30)); // a timer well past the 1 ms an overflowed one fires at
    expect(settled).toBe(false);
    stop.abort();
    expect(await slept).toBe('aborted');
  });

  it('waits out a delay longer than one chunk in chunks, firing once', async () => {
    let fired = 0;
    await new Promise<void>((resolve) =>
      setLongTimeout(
        () => {
          fired++;
          resolve();
        },
        45,
        10,
      ),
    );
    expect(fired).toBe(1);
    expect(MAX_TIMER_MS).toBe(2147483647);
  });

  it('clear() stops a chunked timer between chunks', async () => {
    let fired = false;
    const t = setLongTimeout(() => (fired = true), 40, 10);
    await new Promise((r) => setTimeout(r, 15));
    t.clear();
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toBe(false);
  });
});
