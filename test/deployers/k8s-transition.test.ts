/**
 * Replicas-mode transitions never overshoot (src/deployers/k8s/transition.ts): at every
 * intermediate step of moving from one split's pod counts to the next, each revision's pod
 * count stays within one pod of a share between its old and its new one, and the pool never
 * drops below the smaller pool or grows more than one pod above the larger.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apportion } from '../../src/deployers/k8s/apportion.js';
import { transitionSteps, type Counts } from '../../src/deployers/k8s/transition.js';

const sum = (c: Counts) => Object.values(c).reduce((a, n) => a + n, 0);

/** Each intermediate state, the start excluded. */
function states(from: Counts, to: Counts): Counts[] {
  const now = { ...from };
  return transitionSteps(from, to).map((s) => {
    expect(Math.abs(s.replicas - (now[s.revision] ?? 0))).toBe(1);
    now[s.revision] = s.replicas;
    return { ...now };
  });
}

function checkBounds(from: Counts, to: Counts): void {
  const ids = [...new Set([...Object.keys(from), ...Object.keys(to)])];
  const fromTotal = sum(from);
  const toTotal = sum(to);
  const all = states(from, to);
  expect(all.at(-1) ?? from).toEqual(Object.fromEntries(ids.map((id) => [id, to[id] ?? 0])));
  for (const s of all) {
    const n = sum(s);
    expect(n).toBeGreaterThanOrEqual(Math.min(fromTotal, toTotal));
    expect(n).toBeLessThanOrEqual(Math.max(fromTotal, toTotal) + 1);
    for (const id of ids) {
      const a = fromTotal === 0 ? 0 : (from[id] ?? 0) / fromTotal;
      const b = (to[id] ?? 0) / toTotal;
      const pods = s[id] ?? 0;
      expect(
        pods,
        `${JSON.stringify(from)} -> ${JSON.stringify(to)} at ${JSON.stringify(s)} (${id})`,
      ).toBeGreaterThanOrEqual(Math.min(a, b) * n - 1 - 1e-9);
      expect(
        pods,
        `${JSON.stringify(from)} -> ${JSON.stringify(to)} at ${JSON.stringify(s)} (${id})`,
      ).toBeLessThanOrEqual(Math.max(a, b) * n + 1 + 1e-9);
    }
  }
}

const split = (ids: string[]) =>
  fc
    .array(fc.nat(10), { minLength: ids.length, maxLength: ids.length })
    .filter((w) => w.some((x) => x > 0))
    .map((w) => ids.map((revision_id, i) => ({ revision_id, weight_bps: w[i] })));

describe('replicas-mode transitions', () => {
  it('a 25% canary over 4 pods never runs more than one canary pod beyond its share', () => {
    expect(transitionSteps({ v1: 4 }, { v1: 3, v2: 1 })).toEqual([
      { revision: 'v2', replicas: 1 },
      { revision: 'v1', replicas: 3 },
    ]);
    // Promotion: the leaving revision only ever shrinks.
    const promote = transitionSteps({ v1: 3, v2: 1 }, { v2: 4 });
    expect(promote.filter((s) => s.revision === 'v1').map((s) => s.replicas)).toEqual([2, 1, 0]);
    checkBounds({ v1: 3, v2: 1 }, { v2: 4 });
  });

  it('keeps every revision within one pod of a share between the old and the new split, at every step', () => {
    const ids = ['a', 'b', 'c', 'd'];
    fc.assert(
      fc.property(
        split(ids),
        split(ids),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        (oldSplit, newSplit, oldPool, newPool) => {
          const counts = (m: Map<string, number>) => Object.fromEntries(m);
          checkBounds(counts(apportion(oldPool, oldSplit)), counts(apportion(newPool, newSplit)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
