/**
 * Every deployer's weight conversion over the same cases: what each enforces (and reads back)
 * for a split agrees with the others to the basis point wherever its provider can express the
 * split, and all read provider weights back through the same rounding.
 */
import { describe, expect, it } from 'vitest';
import { toElbWeights } from '../../../src/deployers/aws-ec2/weights.js';
import { fromTrafficManager, toTrafficManager } from '../../../src/deployers/azure-vm/weights.js';
import { fromPerMille, toPerMille } from '../../../src/deployers/gcp-compute/weights.js';
import { apportion as podCounts, effectiveSplit } from '../../../src/deployers/k8s/apportion.js';
import { toBps } from '../../../src/deployers/kit/weights.js';
import { splitConfig } from '../../../src/deployers/kit/router-fleet.js';
import type { SplitEntry } from '../../../src/model/environment.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);
const split = (bps: number[]): SplitEntry[] => bps.map((weight_bps, i) => ({ revision_id: `r${i}`, weight_bps }));

/** What each deployer enforces for a split, in basis points, as it would report it back. */
const enforced: Record<string, (s: SplitEntry[]) => number[]> = {
  // local-process, docker and ssh: the router takes basis points as they are.
  router: (s) =>
    splitConfig(
      'd',
      s.map((e) => ({ ...e, backends: [], health_path: '/' })),
      null,
    ).entries.map((e) => e.weight_bps),
  'aws-ec2 (0-999)': (s) => toElbWeights(s).enforced.map((e) => e.weight_bps),
  'gcp-compute (per mille)': (s) => fromPerMille(toPerMille(s)),
  'azure-vm (1-1000)': (s) => fromTrafficManager(toTrafficManager(s)),
  'k8s replicas (pool 1000)': (s) => {
    const counts = podCounts(1000, s);
    const eff = effectiveSplit(s.map((e) => ({ revision_id: e.revision_id, pods: counts.get(e.revision_id) ?? 0 })));
    return s.map((e) => eff.find((x) => x.revision_id === e.revision_id)?.weight_bps ?? 0);
  },
};

/** Splits every provider can express exactly (steps of 10 bps). */
const exact: number[][] = [
  [10000],
  [9000, 1000],
  [5000, 5000],
  [3330, 3330, 3340],
  [1000, 0, 9000],
  [10, 9990],
  [2500, 2500, 2500, 2500],
  [1660, 1670, 1670, 1670, 1660, 1670],
  [0, 10000],
  [100, 200, 300, 400, 9000],
];

describe('every deployer agrees on weights', () => {
  for (const [name, convert] of Object.entries(enforced)) {
    it(`${name} enforces every split in 10 bps steps exactly`, () => {
      for (const bps of exact) expect(convert(split(bps)), `${name} ${bps.join('/')}`).toEqual(bps);
    });
  }

  it('all read equal provider weights back the same way: six equal weights are 1667 x4, 1666 x2', () => {
    const six = [1, 1, 1, 1, 1, 1];
    const want = [1667, 1667, 1667, 1667, 1666, 1666];
    expect(toBps(six)).toEqual(want);
    expect(fromPerMille(six)).toEqual(want);
    expect(fromTrafficManager(six.map((weight) => ({ weight, enabled: true })))).toEqual(want);
    expect(effectiveSplit(ids(6).map((revision_id) => ({ revision_id, pods: 1 }))).map((e) => e.weight_bps)).toEqual(
      want,
    );
  });

  it('all read arbitrary provider weights back through the same rounding', () => {
    const cases = [
      [1, 2],
      [3, 3, 3],
      [7, 0, 5],
      [999, 1],
      [1, 1, 1, 1, 1, 1, 1],
      [333, 333, 334],
    ];
    for (const w of cases) {
      const want = toBps(w);
      expect(fromPerMille(w)).toEqual(want);
      expect(fromTrafficManager(w.map((weight) => ({ weight, enabled: weight > 0 })))).toEqual(want);
      const eff = effectiveSplit(w.map((pods, i) => ({ revision_id: `r${i}`, pods })));
      expect(w.map((_, i) => eff.find((e) => e.revision_id === `r${i}`)?.weight_bps ?? 0)).toEqual(want);
    }
  });
});
