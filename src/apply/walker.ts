/**
 * Walks a DAG: runs a vertex once all its dependencies succeeded, at most `parallelism` at
 * a time; a failure marks everything downstream `skipped` (reported once, at the failure)
 * while independent branches go on. After `stop` is aborted no new vertex starts.
 * Modelled on Terraform's internal/dag walker with the semaphore outside the vertex logic.
 * A dependency that is not among the vertices is an error before anything runs: treating it
 * as satisfied would run a step whose prerequisite nobody ran (docs/design.md#applying-a-plan).
 */
import { PlanError } from '../model/errors.js';
import { MinHeap } from '../plan/min-heap.js';

export type VertexStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'not_started';

export interface Vertex {
  id: string;
  depends_on: readonly string[];
}

export interface WalkResult {
  status: Map<string, VertexStatus>;
  /** For skipped vertices: the failed vertex that caused it. */
  skippedBecause: Map<string, string>;
}

export interface VertexControl {
  /**
   * Frees this vertex's parallelism slot before `run` settles, so an independent vertex can
   * start while this one only waits (the executor: for its outcome to be durable). Its
   * dependents still start only once `run` has resolved true. Calling it twice is harmless.
   */
  releaseSlot(): void;
}

export async function walk<V extends Vertex>(
  vertices: readonly V[],
  run: (v: V, control: VertexControl) => Promise<boolean>,
  opts: { parallelism: number; stop?: AbortSignal; onSkip?: (v: V, cause: string) => void },
): Promise<WalkResult> {
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const status = new Map<string, VertexStatus>(vertices.map((v) => [v.id, 'pending']));
  const skippedBecause = new Map<string, string>();
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  assertClosed(vertices);
  for (const v of vertices) {
    const deps = new Set(v.depends_on);
    waitingOn.set(v.id, deps.size);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(v.id);
      dependents.set(d, list);
    }
  }
  // Ready vertices leave in input order, so equal inputs run in the same order. A heap: a
  // sorted array cost O(n) per insertion and per removal, quadratic on plans of 10k steps.
  const indexOf = new Map(vertices.map((v, i) => [v.id, i]));
  const ready = new MinHeap();
  vertices.forEach((v, i) => {
    if (waitingOn.get(v.id) === 0) ready.push(i);
  });
  const parallelism = Math.max(1, opts.parallelism);
  let busySlots = 0;
  let unsettled = 0;

  const skipDownstream = (failedId: string) => {
    const stack = [...(dependents.get(failedId) ?? [])];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (status.get(id) !== 'pending') continue;
      status.set(id, 'skipped');
      skippedBecause.set(id, failedId);
      opts.onSkip?.(byId.get(id)!, failedId);
      stack.push(...(dependents.get(id) ?? []));
    }
  };

  await new Promise<void>((resolveAll) => {
    const pump = () => {
      while (busySlots < parallelism && ready.size > 0 && !opts.stop?.aborted) {
        const v = vertices[ready.pop()];
        if (status.get(v.id) !== 'pending') continue;
        status.set(v.id, 'running');
        busySlots++;
        unsettled++;
        let holdsSlot = true;
        const releaseSlot = () => {
          if (!holdsSlot) return;
          holdsSlot = false;
          busySlots--;
          pump();
        };
        run(v, { releaseSlot })
          .catch(() => false)
          .then((ok) => {
            unsettled--;
            if (holdsSlot) {
              holdsSlot = false;
              busySlots--;
            }
            status.set(v.id, ok ? 'succeeded' : 'failed');
            if (ok) {
              for (const d of dependents.get(v.id) ?? []) {
                const left = waitingOn.get(d)! - 1;
                waitingOn.set(d, left);
                if (left === 0 && status.get(d) === 'pending') ready.push(indexOf.get(d)!);
              }
            } else {
              skipDownstream(v.id);
            }
            pump();
          });
      }
      if (unsettled === 0 && (ready.size === 0 || opts.stop?.aborted)) resolveAll();
    };
    opts.stop?.addEventListener('abort', () => pump(), { once: true });
    pump();
  });

  for (const [id, s] of status) if (s === 'pending') status.set(id, 'not_started');
  return { status, skippedBecause };
}

/** Throws `PlanError` naming every dependency that is not among the vertices. */
export function assertClosed(vertices: readonly Vertex[]): void {
  const ids = new Set(vertices.map((v) => v.id));
  const missing: string[] = [];
  for (const v of vertices) {
    for (const d of v.depends_on) {
      if (!ids.has(d)) missing.push(`step "${v.id}" depends on "${d}", which is not in the plan`);
    }
  }
  if (missing.length > 0) throw new PlanError(missing);
}
