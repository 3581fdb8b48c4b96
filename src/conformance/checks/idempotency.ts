/**
 * Every verb, called a second time with the identical environment, succeeds and leaves what
 * `observe` shows exactly as the first call left it (docs/design.md#plugin-api).
 */
import { expectSplit, expectStatus, expectUnchanged } from '../assertions.js';
import type { Call, Harness } from '../harness.js';
import { CheckFailure } from '../verdict.js';
import { entries, type Check } from './check.js';

async function secondCallChangesNothing(h: Harness, first: Call): Promise<unknown> {
  const before = await h.observe();
  const again = await h.repeat(first);
  expectUnchanged(before, await h.observe(), `after a second identical ${first.verb} ${first.target}`);
  return again;
}

export const idempotentStage: Check = {
  name: 'idempotent-stage',
  summary: 'a second identical stage succeeds and changes nothing observed',
  async run(h) {
    await secondCallChangesNothing(h, await h.stage(h.ids.a1));
  },
};

export const idempotentWarm: Check = {
  name: 'idempotent-warm',
  summary: 'a second identical warm succeeds, changes nothing observed and keeps the endpoint',
  async run(h) {
    const { a1 } = h.ids;
    await h.stage(a1);
    const first = await h.warm(a1);
    expectStatus(await h.observe(), a1, 'healthy', `after warm ${a1}`);
    const again = (await secondCallChangesNothing(h, first)) as { endpoint?: unknown } | undefined;
    const e1 = first.result?.endpoint;
    const e2 = again?.endpoint;
    if (typeof e1 === 'string' && typeof e2 === 'string' && e1 !== e2) {
      throw new CheckFailure(`a second identical warm ${a1} moved the revision to another endpoint`, e1, e2);
    }
  },
};

export const idempotentSplit: Check = {
  name: 'idempotent-split',
  summary: 'a second identical apply_traffic_split succeeds and changes nothing observed',
  async run(h) {
    const { a, a1, a2 } = h.ids;
    await h.stageAndWarm(a1, a2);
    const split = entries([a1, 6000], [a2, 4000]);
    const first = await h.split(a, split);
    expectSplit(await h.observe(), a, split, 'after the split');
    await secondCallChangesNothing(h, first);
  },
};

/** Drain and archive take a warmed revision out of service; a second identical call must change nothing. */
function idempotentRetirement(verb: 'drain' | 'archive'): Check {
  return {
    name: `idempotent-${verb}`,
    summary: `a second identical ${verb} succeeds and changes nothing observed`,
    async run(h) {
      await h.stageAndWarm(h.ids.a1);
      await secondCallChangesNothing(h, await h[verb](h.ids.a1));
    },
  };
}

export const idempotentDrain = idempotentRetirement('drain');

export const idempotentArchive = idempotentRetirement('archive');
