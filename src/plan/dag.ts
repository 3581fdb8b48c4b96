/** Graph helpers over plan steps, shared by the planner's self-check, the executor and `bp graph`. */
import { PlanError } from '../model/errors.js';
import type { Plan, PlanStep } from '../model/plan.js';
import { MinHeap } from './min-heap.js';

/** Every structural problem: duplicate ids, dependencies on unknown steps, cycles. */
export function dagProblems(steps: readonly PlanStep[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id)) problems.push(`step id "${s.id}" appears twice`);
    ids.add(s.id);
  }
  for (const s of steps) {
    for (const d of s.depends_on) {
      if (!ids.has(d)) problems.push(`step "${s.id}" depends on unknown step "${d}"`);
      if (d === s.id) problems.push(`step "${s.id}" depends on itself`);
    }
  }
  if (problems.length > 0) return problems;
  const { order } = kahn(steps);
  if (order.length < steps.length) {
    const done = new Set(order);
    const stuck = steps.filter((s) => !done.has(s)).map((s) => s.id);
    problems.push(`steps ${stuck.map((id) => `"${id}"`).join(', ')} form or depend on a cycle`);
  }
  return problems;
}

/** Throws PlanError listing every problem when the steps are not a valid DAG. */
export function validateDag(plan: Pick<Plan, 'steps'>): void {
  const problems = dagProblems(plan.steps);
  if (problems.length > 0) throw new PlanError(problems);
}

/**
 * Steps ordered so each comes after its dependencies. Among steps that are ready at the
 * same time the plan's own order wins, so the result is deterministic.
 */
export function topologicalOrder(steps: readonly PlanStep[]): PlanStep[] {
  validateDag({ steps: [...steps] });
  return kahn(steps).order;
}

/** Steps that (transitively) depend on any of `failed`: what an executor skips. */
export function downstreamOf(steps: readonly PlanStep[], failed: Iterable<string>): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const s of steps) {
    for (const d of s.depends_on) {
      const list = dependents.get(d) ?? [];
      list.push(s.id);
      dependents.set(d, list);
    }
  }
  const out = new Set<string>();
  const queue = [...failed];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const next of dependents.get(id) ?? []) {
      if (!out.has(next)) {
        out.add(next);
        queue.push(next);
      }
    }
  }
  return out;
}

function kahn(steps: readonly PlanStep[]): { order: PlanStep[] } {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const remaining = steps.map((s) => new Set(s.depends_on.filter((d) => index.has(d))).size);
  const dependents: number[][] = steps.map(() => []);
  steps.forEach((s, i) => {
    for (const d of new Set(s.depends_on)) {
      const j = index.get(d);
      if (j !== undefined) dependents[j].push(i);
    }
  });
  // Ready steps leave in plan order; a binary heap keeps that O(log n) per step (re-sorting a
  // ready list made planning 50,000 revisions quadratic: most stage steps are ready at once).
  const ready = new MinHeap();
  remaining.forEach((n, i) => n === 0 && ready.push(i));
  const order: PlanStep[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(steps[i]);
    for (const j of dependents[i]) if (--remaining[j] === 0) ready.push(j);
  }
  return { order };
}
