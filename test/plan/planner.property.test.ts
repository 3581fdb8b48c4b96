import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { PlanError } from '../../src/model/errors.js';
import type { Environment } from '../../src/model/environment.js';
import type { Plan, PlanStep } from '../../src/model/plan.js';
import { canTransition, type RecordedState } from '../../src/model/state.js';
import { isAllowedVerb, plan, topologicalOrder, validateDag, type PlanInput } from '../../src/plan/index.js';
import { NOW } from './builders.js';
import { buildScenario, scenarioSeed, teardownSet, unmetDesires } from './scenario.js';
import { simulate } from './simulate.js';

const RUNS = Number(process.env.BP_FUZZ_RUNS ?? 300);

function planOrExplain(input: PlanInput): Plan {
  try {
    return plan(input);
  } catch (e) {
    if (PlanError.is(e)) throw new Error(`unexpected PlanError:\n${e.message}`);
    throw e;
  }
}

/** Per revision, its steps in execution order walk an allowed lifecycle path from the recorded one. */
function chainProblems(p: Plan, recorded: RecordedState): string[] {
  const out: string[] = [];
  const byRevision = new Map<string, PlanStep[]>();
  for (const s of topologicalOrder(p.steps)) {
    if (s.revision_id === null || s.verb === 'update') continue; // update only records settings
    const list = byRevision.get(s.revision_id) ?? [];
    list.push(s);
    byRevision.set(s.revision_id, list);
  }
  for (const [id, steps] of byRevision) {
    const start = recorded.revisions[id]?.lifecycle ?? 'inactive';
    // Drift plans treat a vanished ready revision as failed: ready -> failed must itself be allowed.
    if (steps[0].from !== start && !canTransition(start, steps[0].from!))
      out.push(`${id}: starts at ${steps[0].from}, recorded ${start}`);
    steps.forEach((s, i) => {
      if (!isAllowedVerb(s.verb as Exclude<PlanStep['verb'], 'apply_traffic_split' | 'update'>, s.from!))
        out.push(`${s.id}: ${s.verb} from ${s.from}`);
      if (i > 0 && steps[i - 1].to !== s.from) out.push(`${s.id}: starts at ${s.from} after ${steps[i - 1].to}`);
      if (i > 0 && !s.depends_on.includes(steps[i - 1].id)) out.push(`${s.id}: does not wait for ${steps[i - 1].id}`);
    });
  }
  return out;
}

/**
 * Re-plans with refresh skipped and applies until nothing is left. The first round may repair
 * (after injected failures); later rounds may only archive revisions whose TTL passed once
 * their traffic moved away (docs/design.md#traffic-rules: an expired revision carrying traffic is only reported).
 */
function settle(desired: Environment, state: RecordedState, destroy: boolean, repairRound: boolean): RecordedState {
  let s = state;
  for (let round = 0; round < 4; round++) {
    const p = planOrExplain({ desired, recorded: s, now: NOW, destroy });
    if (p.steps.length === 0) return s;
    if (!(repairRound && round === 0)) {
      expect(p.steps.filter((x) => x.reason !== 'ttl expired').map((x) => `${x.id} ${x.reason}`)).toEqual([]);
    }
    const teardown = teardownSet(desired, s, destroy);
    const sim = simulate(p, desired, s, { now: NOW, teardown: (d) => teardown.has(d) });
    expect(sim.failed).toEqual([]);
    expect(sim.guardViolations).toEqual([]);
    s = sim.state;
  }
  throw new Error('did not converge in 4 rounds');
}

describe('planner properties', () => {
  it('plans a valid DAG of allowed transitions that keeps the guard and converges in one apply', () => {
    fc.assert(
      fc.property(scenarioSeed, (seed) => {
        const sc = buildScenario(seed);
        const input = {
          desired: sc.desired,
          recorded: sc.recorded,
          now: NOW,
          observed: sc.observed,
          destroy: sc.destroy,
        };
        const p = planOrExplain(input);
        validateDag(p);
        expect(chainProblems(p, sc.recorded)).toEqual([]);
        expect(p.changes).toBe(p.steps.length > 0);
        expect(planOrExplain(structuredClone(input))).toEqual(p);

        const teardown = teardownSet(sc.desired, sc.recorded, sc.destroy);
        const sim = simulate(p, sc.desired, sc.recorded, { now: NOW, teardown: (d) => teardown.has(d) });
        expect(sim.guardViolations).toEqual([]);
        expect(unmetDesires(sc.desired, sim.state, sc.destroy, NOW)).toEqual([]);
        const settled = settle(sc.desired, sim.state, sc.destroy, false);
        expect(unmetDesires(sc.desired, settled, sc.destroy, NOW)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);

  it('converges after random failures (dependents skipped) or a crash mid-step', () => {
    fc.assert(
      fc.property(
        scenarioSeed,
        fc.array(fc.nat(20), { maxLength: 4 }),
        fc.option(fc.nat(20)),
        (seed, failAt, crashAt) => {
          const sc = buildScenario(seed);
          const p = planOrExplain({
            desired: sc.desired,
            recorded: sc.recorded,
            now: NOW,
            observed: sc.observed,
            destroy: sc.destroy,
          });
          const failing = new Set(failAt.filter((i) => i < p.steps.length).map((i) => p.steps[i].id));
          const crash = crashAt !== null && crashAt < p.steps.length ? p.steps[crashAt].id : undefined;
          const teardown = teardownSet(sc.desired, sc.recorded, sc.destroy);
          const sim = simulate(p, sc.desired, sc.recorded, {
            now: NOW,
            fails: (s) => failing.has(s.id),
            crashAt: crash,
            teardown: (d) => teardown.has(d),
          });
          expect(sim.guardViolations).toEqual([]);
          const broken = new Set([...sim.failed, ...sim.skipped]);
          for (const id of sim.skipped)
            expect(p.steps.find((x) => x.id === id)!.depends_on.some((d) => broken.has(d))).toBe(true);
          const settled = settle(sc.desired, sim.state, sc.destroy, true);
          expect(unmetDesires(sc.desired, settled, sc.destroy, NOW)).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  }, 600_000);

  it('on inconsistent inputs either plans a valid, guarded DAG or throws PlanError', () => {
    let planned = 0;
    fc.assert(
      fc.property(scenarioSeed, (seed) => {
        const sc = buildScenario(seed, { chaos: true });
        let p: Plan;
        try {
          p = plan({
            desired: sc.desired,
            recorded: sc.recorded,
            now: NOW,
            observed: sc.observed,
            destroy: sc.destroy,
          });
        } catch (e) {
          expect(PlanError.is(e)).toBe(true);
          expect((e as PlanError).problems.length).toBeGreaterThan(0);
          expect((e as PlanError).message).not.toMatch(/internal:/);
          return;
        }
        planned++;
        validateDag(p);
        expect(chainProblems(p, sc.recorded)).toEqual([]);
        const teardown = teardownSet(sc.desired, sc.recorded, sc.destroy);
        expect(
          simulate(p, sc.desired, sc.recorded, { now: NOW, teardown: (d) => teardown.has(d) }).guardViolations,
        ).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    // The chaos generator must still exercise the planning path, not only the error path.
    expect(planned).toBeGreaterThan(RUNS / 10);
  }, 600_000);
});
