/** A split is one deployment's business: it touches no other, and its outcome says what it did. */
import { expectSplit } from '../assertions.js';
import { splitIn, weightMap } from '../snapshot.js';
import { CheckFailure, Findings, sameValue } from '../verdict.js';
import { entries, type Check } from './check.js';

export const splitIsolation: Check = {
  name: 'split-isolation',
  summary: "applying one deployment's split leaves every other deployment's observed split unchanged",
  async run(h) {
    const { a, b, a1, a2, b1, b2 } = h.ids;
    await h.stageAndWarm(a1, a2, b1, b2);
    await h.split(a, entries([a1, 10000]));
    await h.split(b, entries([b1, 10000]));
    const before = await h.observe();
    // b's desired split now differs from the enforced one, as when b's own split step has not run
    // yet: a deployer that re-applies every split it is shown would enforce it here.
    h.setTraffic(b, entries([b1, 5000], [b2, 5000]));
    const shifted = entries([a1, 5000], [a2, 5000]);
    await h.split(a, shifted);
    const after = await h.observe();
    expectSplit(after, a, shifted, `after applying the split of ${a}`);
    const others = new Set([...Object.keys(before.splits), ...Object.keys(after.splits)].filter((d) => d !== a));
    for (const dep of others) {
      if (!sameValue(splitIn(before, dep), splitIn(after, dep))) {
        throw new CheckFailure(
          `applying the split of ${a} changed the observed split of ${dep}`,
          splitIn(before, dep),
          splitIn(after, dep),
        );
      }
    }
  },
};

export const splitOutcome: Check = {
  name: 'split-outcome',
  summary: 'apply_traffic_split reports the deployment and the entries it was asked to apply',
  async run(h) {
    const { a, b, a1, b1, b2 } = h.ids;
    await h.stageAndWarm(a1, b1, b2);
    await h.split(a, entries([a1, 10000]));
    const asked = entries([b1, 7000], [b2, 3000]);
    const { result } = await h.split(b, asked);
    const r = (result ?? {}) as { applied_deployment_id?: unknown; applied_entries?: unknown };
    const f = new Findings();
    if (r.applied_deployment_id !== b) {
      f.add(
        'applied_deployment_id',
        `the outcome names ${JSON.stringify(r.applied_deployment_id)}`,
        b,
        r.applied_deployment_id ?? null,
      );
    }
    if (!Array.isArray(r.applied_entries) || !sameValue(weightMap(r.applied_entries), weightMap(asked))) {
      f.add(
        'applied_entries',
        'the outcome does not list the entries that were asked for',
        asked,
        r.applied_entries ?? null,
      );
    }
    f.throwIfAny();
    expectSplit(await h.observe(), b, asked, 'after the split');
  },
};
