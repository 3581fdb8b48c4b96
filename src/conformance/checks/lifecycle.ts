/** The full lifecycle, sequentially and concurrently, judged only by `observe`. */
import { expectSplit, expectStatus } from '../assertions.js';
import { splitIn } from '../snapshot.js';
import { CheckFailure } from '../verdict.js';
import { allSettled, entries, type Check } from './check.js';

export const happyPath: Check = {
  name: 'happy-path',
  summary: 'stage, warm, split, drain and archive several revisions; take a deployment down',
  async run(h) {
    const { a, b, a1, a2, b1 } = h.ids;
    for (const id of [a1, a2, b1]) await h.stage(id);
    for (const id of [a1, b1]) {
      await h.warm(id);
      expectStatus(await h.observe(), id, 'healthy', `after warm ${id}`);
    }
    const aOnly = entries([a1, 10000]);
    await h.split(a, aOnly);
    await h.split(b, entries([b1, 10000]));
    let s = await h.observe();
    expectSplit(s, a, aOnly, 'after the first split');
    expectSplit(s, b, entries([b1, 10000]), 'after the first split');

    await h.warm(a2);
    expectStatus(await h.observe(), a2, 'healthy', `after warm ${a2}`);
    const canary = entries([a1, 9000], [a2, 1000]);
    await h.split(a, canary);
    expectSplit(await h.observe(), a, canary, 'after shifting 10% to the canary');
    const promoted = entries([a1, 0], [a2, 10000]);
    await h.split(a, promoted);
    expectSplit(await h.observe(), a, promoted, 'after promoting the canary');

    await h.drain(a1);
    await h.archive(a1);
    s = await h.observe();
    expectStatus(s, a1, 'absent', `after archive ${a1}`);
    expectStatus(s, a2, 'healthy', `after archive ${a1}`);
    expectSplit(s, a, promoted, `after archive ${a1}`);

    // Taking a whole deployment down archives revisions that carry traffic and releases its routing.
    await h.run('archive', b1, h.teardownEnv([b]));
    s = await h.observe();
    expectStatus(s, b1, 'absent', `after taking ${b} down`);
    const left = splitIn(s, b);
    if (Object.keys(left).length > 0) {
      throw new CheckFailure(`after taking ${b} down: its routing was not released`, {}, left);
    }
    expectSplit(s, a, promoted, `after taking ${b} down`);
  },
};

export const concurrency: Check = {
  name: 'concurrency',
  summary: 'verbs on different revisions and splits of different deployments run at the same time safely',
  async run(h) {
    const { a, b, a1, a2, a3, b1, b2 } = h.ids;
    const all = [a1, a2, a3, b1, b2];
    await allSettled(all.map((id) => h.stage(id)));
    await allSettled(all.map((id) => h.warm(id)));
    let s = await h.observe();
    for (const id of all) expectStatus(s, id, 'healthy', 'after concurrent warms');

    const spread = entries([a1, 5000], [a2, 3000], [a3, 2000]);
    await allSettled([h.split(a, spread), h.split(b, entries([b1, 10000]))]);
    s = await h.observe();
    expectSplit(s, a, spread, 'after concurrent splits');
    expectSplit(s, b, entries([b1, 10000]), 'after concurrent splits');

    await h.split(a, entries([a1, 10000]));
    const retired = [a2, a3, b2];
    await allSettled(retired.map((id) => h.drain(id)));
    await allSettled(retired.map((id) => h.archive(id)));
    s = await h.observe();
    for (const id of retired) expectStatus(s, id, 'absent', 'after concurrent archives');
    for (const id of [a1, b1]) expectStatus(s, id, 'healthy', 'after concurrent archives of other revisions');
    expectSplit(s, a, entries([a1, 10000]), 'after concurrent archives');
    expectSplit(s, b, entries([b1, 10000]), 'after concurrent archives');
  },
};
