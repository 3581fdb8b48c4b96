/** Basis points <-> ELBv2 weights: exact where the balancer can express the split, honest where not. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ELB_WEIGHT, toElbWeights } from '../../src/deployers/aws-ec2/weights.js';
import { toSplit as toBps } from '../../src/deployers/kit/weights.js';

const entries = (...w: number[]) => w.map((weight_bps, i) => ({ revision_id: `r${i}`, weight_bps }));

/** Random valid splits: 1-5 integer weights summing to 10000, optionally in steps of `step` bps. */
const splitArb = (step: number) =>
  fc.array(fc.nat({ max: 10000 / step }), { minLength: 1, maxLength: 4 }).map((cuts) => {
    const points = [0, ...cuts.map((c) => c * step).sort((a, b) => a - b), 10000];
    return entries(...points.slice(1).map((p, i) => p - points[i]));
  });

describe('aws-ec2 weights', () => {
  it('reduces common splits to small exact weights', () => {
    expect(toElbWeights(entries(10000)).weights).toEqual([1]);
    expect(toElbWeights(entries(9000, 1000)).weights).toEqual([9, 1]);
    expect(toElbWeights(entries(0, 10000)).weights).toEqual([0, 1]);
    expect(toElbWeights(entries(5000, 3000, 2000)).weights).toEqual([5, 3, 2]);
    expect(toElbWeights(entries(3333, 6667))).toMatchObject({ exact: false, weights: [333, 667] });
  });

  it('is exact for every split in steps of 10 bps', () => {
    fc.assert(
      fc.property(splitArb(10), (split) => {
        const r = toElbWeights(split);
        expect(r.exact).toBe(true);
        expect(r.enforced).toEqual(split);
        expect(Math.max(...r.weights)).toBeLessThanOrEqual(MAX_ELB_WEIGHT);
      }),
      { numRuns: 500 },
    );
  });

  it('otherwise reports a valid split, off by at most 10 bps per entry in the split, that converts back to itself', () => {
    fc.assert(
      fc.property(splitArb(1), (split) => {
        const r = toElbWeights(split);
        expect(r.weights.every((w) => Number.isInteger(w) && w >= 0 && w <= MAX_ELB_WEIGHT)).toBe(true);
        expect(r.enforced.reduce((s, e) => s + e.weight_bps, 0)).toBe(10000);
        r.enforced.forEach((e, i) => {
          expect(Math.abs(e.weight_bps - split[i].weight_bps)).toBeLessThanOrEqual(10 * split.length);
          // A revision asked for traffic keeps some; one asked for none gets none.
          expect(e.weight_bps > 0).toBe(split[i].weight_bps > 0);
        });
        // observe reads the same weights back: the reported split is the enforced one.
        expect(
          toBps(
            split.map((e) => e.revision_id),
            r.weights,
          ),
        ).toEqual(r.enforced);
      }),
      { numRuns: 500 },
    );
  });

  it('reads weights with no traffic as all zeros', () => {
    expect(toBps(['a', 'b'], [0, 0])).toEqual([
      { revision_id: 'a', weight_bps: 0 },
      { revision_id: 'b', weight_bps: 0 },
    ]);
  });
});
