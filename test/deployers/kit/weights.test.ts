import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apportion, fromBps, toBps } from '../../../src/deployers/kit/weights.js';

const runs = Number(process.env.BP_FUZZ_RUNS ?? 300);
const weights = fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 12 });

describe('apportion (largest remainder)', () => {
  it('sums to the total, stays within one of the exact share, and is zero only for zero weights', () => {
    fc.assert(
      fc.property(weights, fc.integer({ min: 1, max: 20_000 }), (w, total) => {
        const out = apportion(w, total);
        const sum = w.reduce((a, b) => a + b, 0);
        if (sum === 0) {
          expect(out.every((x) => x === 0)).toBe(true);
          return;
        }
        expect(out.reduce((a, b) => a + b, 0)).toBe(total);
        out.forEach((x, i) => {
          const exact = (w[i] * total) / sum;
          expect(x).toBeGreaterThanOrEqual(Math.floor(exact));
          expect(x).toBeLessThanOrEqual(Math.ceil(exact));
        });
      }),
      { numRuns: runs },
    );
  });

  it('is exact whenever the shares are integers, and scaling the weights changes nothing', () => {
    fc.assert(
      fc.property(weights, fc.integer({ min: 1, max: 50 }), (w, k) => {
        expect(
          apportion(
            w.map((x) => x * k),
            10_000,
          ),
        ).toEqual(apportion(w, 10_000));
        expect(toBps(w.map((x) => x * 10_000))).toEqual(toBps(w));
      }),
      { numRuns: runs },
    );
  });

  it('breaks ties toward the earlier entry: six equal weights give 1667 x4, 1666 x2', () => {
    expect(toBps([1, 1, 1, 1, 1, 1])).toEqual([1667, 1667, 1667, 1667, 1666, 1666]);
    expect(toBps([1, 1, 1])).toEqual([3334, 3333, 3333]);
    expect(toBps([0, 0])).toEqual([0, 0]);
  });

  it('with minPositive, keeps every positive weight at least that, still summing to the total', () => {
    fc.assert(
      fc.property(weights, fc.integer({ min: 12, max: 2000 }), (w, total) => {
        const out = apportion(w, total, { minPositive: 1 });
        if (w.every((x) => x === 0)) return;
        expect(out.reduce((a, b) => a + b, 0)).toBe(total);
        w.forEach((x, i) => (x > 0 ? expect(out[i]).toBeGreaterThanOrEqual(1) : expect(out[i]).toBe(0)));
      }),
      { numRuns: runs },
    );
    expect(fromBps([9995, 5], 1000)).toEqual([999, 1]);
  });

  it('fromBps then toBps is exact for splits in steps of 10000/total bps', () => {
    const split = fc
      .array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 })
      .filter((a) => a.reduce((s, x) => s + x, 0) > 0)
      .map((a) => apportion(a, 1000).map((x) => x * 10));
    fc.assert(
      fc.property(split, (bps) => {
        expect(toBps(fromBps(bps, 1000))).toEqual(bps);
      }),
      { numRuns: runs },
    );
  });
});
