import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmoothWeightedRoundRobin } from '../../src/router/swrr.js';
import { formatListen, parseListen } from '../../src/router/listen.js';
import { routerConfigProblems } from '../../src/router/config.js';

function counts(
  picker: SmoothWeightedRoundRobin<string>,
  n: number,
  eligible?: (v: string) => boolean,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const v = picker.next(eligible);
    if (v !== undefined) out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

describe('SmoothWeightedRoundRobin', () => {
  it('gives 90/10 exactly over a full cycle and interleaves the minority', () => {
    const p = new SmoothWeightedRoundRobin([
      { value: 'a', weight: 9000 },
      { value: 'b', weight: 1000 },
    ]);
    const seq = Array.from({ length: 10 }, () => p.next());
    expect(seq.filter((v) => v === 'b')).toHaveLength(1);
    expect(counts(p, 10_000)).toEqual({ a: 9000, b: 1000 });
  });

  it('never picks zero-weight items', () => {
    const p = new SmoothWeightedRoundRobin([
      { value: 'a', weight: 10000 },
      { value: 'z', weight: 0 },
    ]);
    expect(counts(p, 500)).toEqual({ a: 500 });
  });

  it('is exact within one pick per item over any prefix (property)', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: 10000 }), { minLength: 1, maxLength: 6 })
          .filter((ws) => ws.some((w) => w > 0)),
        fc.integer({ min: 1, max: 3000 }),
        (weights, n) => {
          const total = weights.reduce((a, b) => a + b, 0);
          const p = new SmoothWeightedRoundRobin(weights.map((w, i) => ({ value: String(i), weight: w })));
          const got = counts(p, n);
          weights.forEach((w, i) => {
            expect(Math.abs((got[String(i)] ?? 0) - (n * w) / total)).toBeLessThanOrEqual(1);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('redistributes an ineligible item share and returns undefined when none is eligible', () => {
    const p = new SmoothWeightedRoundRobin([
      { value: 'a', weight: 5000 },
      { value: 'b', weight: 5000 },
    ]);
    expect(counts(p, 100, (v) => v !== 'a')).toEqual({ b: 100 });
    expect(p.next(() => false)).toBeUndefined();
  });
});

describe('listen addresses', () => {
  it('parses host:port and bracketed IPv6, and rejects junk', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(formatListen({ host: '::1', port: 9 })).toBe('[::1]:9');
    expect(parseListen('localhost')).toBeNull();
    expect(parseListen('h:70000')).toBeNull();
  });
});

describe('router config validation', () => {
  it('accepts a good config and names every problem of a bad one', () => {
    const good = {
      deployment_id: 'web',
      draining: [],
      entries: [{ revision_id: 'a', weight_bps: 10000, backends: ['http://127.0.0.1:1'], health_path: '/healthz' }],
    };
    expect(routerConfigProblems(good)).toEqual([]);
    const bad = {
      deployment_id: 'web',
      draining: [],
      entries: [{ revision_id: 'a', weight_bps: 9000, backends: ['ftp://x'], health_path: 'healthz' }],
    };
    const problems = routerConfigProblems(bad);
    expect(problems.join('\n')).toMatch(/backends/);
    expect(problems.join('\n')).toMatch(/health_path/);
    expect(problems.join('\n')).toMatch(/sum to 9000/);
  });
});
