import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../../src/model/environment.js';
import { intervalMs, judge } from '../../../src/rollout/analysis/index.js';
import { describe as describeMeasurement, formatWindow } from '../../../src/rollout/analysis/verdict.js';

const a = (over: Partial<Analysis>): Analysis => ({
  metric: 'success_rate',
  interval: '30s',
  count: 1,
  provider: 'router',
  ...over,
});

describe('judge', () => {
  it('passes inside [min, max], fails outside, and is inconclusive without a value', () => {
    expect(judge(a({ min: 0.99 }), 0.99)).toBe('pass');
    expect(judge(a({ min: 0.99 }), 0.98)).toBe('fail');
    expect(judge(a({ max: 250 }), 250)).toBe('pass');
    expect(judge(a({ max: 250 }), 250.1)).toBe('fail');
    expect(judge(a({ min: 1, max: 2 }), 0.5)).toBe('fail');
    expect(judge(a({ min: 1, max: 2 }), 2.5)).toBe('fail');
    expect(judge(a({ min: 0.99 }), null)).toBe('inconclusive');
    expect(judge(a({ min: 0.99 }), NaN)).toBe('inconclusive');
  });
});

describe('intervalMs', () => {
  it('parses the interval and refuses a malformed one', () => {
    expect(intervalMs(a({ interval: '30s' }))).toBe(30_000);
    expect(intervalMs(a({ interval: '1.5m' }))).toBe(90_000);
    expect(() => intervalMs(a({ interval: 'soon' }))).toThrow(/not a duration/);
  });
});

describe('measurement sentences', () => {
  it('say the value, the bound it broke or met, the window and the evidence', () => {
    expect(describeMeasurement(a({ min: 0.99 }), 0.62, 30_000, '31 of 50 requests succeeded', 'x')).toBe(
      'success_rate 0.62 < min 0.99 over 30s (31 of 50 requests succeeded)',
    );
    expect(describeMeasurement(a({ metric: 'latency_p99_ms', max: 250 }), 49.75, 30_400, 'from 50 requests', 'x')).toBe(
      'latency_p99_ms 49.8 <= max 250 over 30s (from 50 requests)',
    );
    expect(describeMeasurement(a({ min: 0.99 }), null, 120_000, '', 'no request reached revision "v2"')).toBe(
      'success_rate: no request reached revision "v2" over 2m; inconclusive',
    );
    expect(formatWindow(7_200_000)).toBe('2h');
    expect(formatWindow(90_000)).toBe('90s');
  });
});
