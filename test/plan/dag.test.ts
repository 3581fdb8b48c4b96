import { describe, it, expect } from 'vitest';
import { PlanError } from '../../src/model/errors.js';
import type { PlanStep } from '../../src/model/plan.js';
import { dagProblems, downstreamOf, topologicalOrder, validateDag } from '../../src/plan/index.js';

const s = (id: string, ...deps: string[]): PlanStep => ({
  id,
  verb: 'stage',
  deployment_id: 'd',
  revision_id: id,
  depends_on: deps,
  reason: 'test',
});

describe('dag helpers', () => {
  it('accepts a valid DAG', () => {
    expect(() => validateDag({ steps: [s('a'), s('b', 'a'), s('c', 'a', 'b')] })).not.toThrow();
    expect(dagProblems([])).toEqual([]);
  });

  it('reports duplicate ids and unknown dependencies together', () => {
    expect(dagProblems([s('a'), s('a'), s('b', 'zz')])).toEqual([
      'step id "a" appears twice',
      'step "b" depends on unknown step "zz"',
    ]);
  });

  it('reports cycles, naming the steps involved', () => {
    const steps = [s('a', 'c'), s('b', 'a'), s('c', 'b'), s('free')];
    expect(dagProblems(steps)).toEqual(['steps "a", "b", "c" form or depend on a cycle']);
    expect(() => validateDag({ steps })).toThrow(PlanError);
    expect(() => topologicalOrder(steps)).toThrow(/cycle/);
    expect(dagProblems([s('self', 'self')])).toEqual(['step "self" depends on itself']);
  });

  it('orders dependencies first, otherwise keeping plan order', () => {
    const steps = [s('drain', 'split'), s('stage'), s('warm', 'stage'), s('split', 'warm'), s('other')];
    expect(topologicalOrder(steps).map((x) => x.id)).toEqual(['stage', 'warm', 'split', 'drain', 'other']);
  });

  it('finds everything downstream of failed steps', () => {
    const steps = [s('a'), s('b', 'a'), s('c', 'b'), s('d'), s('e', 'd', 'c')];
    expect([...downstreamOf(steps, ['b'])].sort()).toEqual(['c', 'e']);
    expect([...downstreamOf(steps, ['d'])]).toEqual(['e']);
    expect(downstreamOf(steps, []).size).toBe(0);
  });
});
