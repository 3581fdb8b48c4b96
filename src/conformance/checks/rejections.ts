/**
 * Calls the deployer must refuse before touching the provider: unknown revisions, invalid or
 * missing splits, and an already-aborted signal. Each case compares `observe` just before and
 * just after the refused call, so one case that leaks cannot blame the next.
 */
import { expectRejected, expectUnchanged, ownMessage } from '../assertions.js';
import { REVISION_VERBS, type Attempt, type BenchVerb, type Harness } from '../harness.js';
import { CheckFailure, Findings } from '../verdict.js';
import { entries, type Check } from './check.js';

/** Runs `call`, then judges the rejection and the observation separately. */
async function refused(
  f: Findings,
  h: Harness,
  caseName: string,
  call: () => Promise<Attempt>,
  judge: (a: Attempt) => void,
): Promise<void> {
  const before = await h.observe();
  const a = await call();
  const after = await h.observe();
  await f.run(caseName, async () => judge(a));
  await f.run(`${caseName} (provider)`, async () => expectUnchanged(before, after, `after the refused call`));
}

export const unknownRevision: Check = {
  name: 'unknown-revision',
  summary: 'every revision verb rejects a revision not in the environment with RevisionNotFound and changes nothing',
  async run(h) {
    const f = new Findings();
    for (const verb of REVISION_VERBS) {
      await refused(
        f,
        h,
        verb,
        () => h.attempt(verb, h.ids.ghost),
        (a) => {
          expectRejected(a, 'RevisionNotFound', `${verb} of unknown revision ${h.ids.ghost}`);
        },
      );
    }
    f.throwIfAny();
  },
};

export const invalidSplit: Check = {
  name: 'invalid-split',
  summary:
    'splits summing to 9000 or 10001, or with negative or fractional weights, are rejected with InvalidSplit and not applied',
  async run(h) {
    const { a, a1, a2 } = h.ids;
    await h.stageAndWarm(a1, a2);
    await h.split(a, entries([a1, 10000]));
    const cases: Array<{ name: string; split: ReturnType<typeof entries>; sum?: number }> = [
      { name: 'sum 9000', split: entries([a1, 5000], [a2, 4000]), sum: 9000 },
      { name: 'sum 10001', split: entries([a1, 5001], [a2, 5000]), sum: 10001 },
      // These two sum to 10000, so only a per-weight check catches them.
      { name: 'negative weight', split: entries([a1, -1000], [a2, 11000]) },
      { name: 'non-integer weight', split: entries([a1, 5000.5], [a2, 4999.5]) },
    ];
    const f = new Findings();
    for (const c of cases) {
      const env = h.copyEnv();
      env.deployments.find((d) => d.deployment_id === a)!.traffic = c.split;
      await refused(
        f,
        h,
        c.name,
        () => h.attempt('split', a, { env }),
        (at) => {
          const e = expectRejected(at, 'InvalidSplit', `split ${c.name}`);
          if (c.sum !== undefined && !ownMessage(e).includes(String(c.sum))) {
            throw new CheckFailure(
              `split ${c.name}: the InvalidSplit message does not name the sum`,
              `a message containing ${c.sum}`,
              ownMessage(e),
            );
          }
        },
      );
    }
    f.throwIfAny();
  },
};

export const missingSplit: Check = {
  name: 'missing-split',
  summary: 'applying the split of a deployment that has none (or does not exist) is rejected with SplitNotFound',
  async run(h) {
    await h.stageAndWarm(h.ids.c1);
    const f = new Findings();
    for (const [name, target] of [
      ['deployment without a split', h.ids.c],
      ['unknown deployment', h.ids.noDeployment],
    ]) {
      await refused(
        f,
        h,
        name,
        () => h.attempt('split', target),
        (a) => {
          expectRejected(a, 'SplitNotFound', `split of ${name} ${target}`);
        },
      );
    }
    f.throwIfAny();
  },
};

export const abort: Check = {
  name: 'abort',
  summary: 'every verb given an already-aborted signal rejects and changes nothing',
  async run(h) {
    const { a, a1, a2 } = h.ids;
    const f = new Findings();
    const aborted = (verb: BenchVerb, target: string) =>
      refused(
        f,
        h,
        verb,
        () => h.attempt(verb, target, { signal: AbortSignal.abort() }),
        (at) => {
          if (at.ok)
            throw new CheckFailure(`${verb} ${target} resolved despite an aborted signal`, 'rejected', 'resolved');
        },
      );
    await aborted('stage', a1);
    await h.stage(a1);
    await aborted('warm', a1);
    await h.warm(a1);
    await h.stageAndWarm(a2);
    h.setTraffic(a, entries([a1, 10000]));
    await aborted('split', a);
    await h.split(a, entries([a1, 10000]));
    await aborted('drain', a2);
    await aborted('archive', a2);
    f.throwIfAny();
  },
};
