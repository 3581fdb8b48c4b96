/**
 * Walks a DAG: runs a vertex once all its dependencies succeeded, at most `parallelism` at
 * a time; a failure marks everything downstream `skipped` (reported once, at the failure)
 * while independent branches go on. After `stop` is aborted no new vertex starts.
 * Modelled on Terraform's internal/dag walker with the semaphore outside the vertex logic.
 */

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

export async function walk<V extends Vertex>(
  vertices: readonly V[],
  run: (v: V) => Promise<boolean>,
  opts: { parallelism: number; stop?: AbortSignal; onSkip?: (v: V, cause: string) => void },
): Promise<WalkResult> {
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const status = new Map<string, VertexStatus>(vertices.map((v) => [v.id, 'pending']));
  const skippedBecause = new Map<string, string>();
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const v of vertices) {
    const deps = v.depends_on.filter((d) => byId.has(d));
    waitingOn.set(v.id, deps.length);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(v.id);
      dependents.set(d, list);
    }
  }
  // Ready queue in input order, so equal inputs run in the same order.
  const order = new Map(vertices.map((v, i) => [v.id, i]));
  const ready: string[] = vertices.filter((v) => waitingOn.get(v.id) === 0).map((v) => v.id);
  const parallelism = Math.max(1, opts.parallelism);
  let running = 0;

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
      while (running < parallelism && ready.length > 0 && !opts.stop?.aborted) {
        const id = ready.shift()!;
        if (status.get(id) !== 'pending') continue;
        status.set(id, 'running');
        running++;
        run(byId.get(id)!)
          .catch(() => false)
          .then((ok) => {
            running--;
            status.set(id, ok ? 'succeeded' : 'failed');
            if (ok) {
              for (const d of dependents.get(id) ?? []) {
                const left = waitingOn.get(d)! - 1;
                waitingOn.set(d, left);
                if (left === 0 && status.get(d) === 'pending') insertSorted(ready, d, order);
              }
            } else {
              skipDownstream(id);
            }
            pump();
          });
      }
      if (running === 0 && (ready.length === 0 || opts.stop?.aborted)) resolveAll();
    };
    opts.stop?.addEventListener('abort', () => pump(), { once: true });
    pump();
  });

  for (const [id, s] of status) if (s === 'pending') status.set(id, 'not_started');
  return { status, skippedBecause };
}

function insertSorted(queue: string[], id: string, order: Map<string, number>): void {
  const rank = order.get(id)!;
  let i = queue.length;
  while (i > 0 && order.get(queue[i - 1])! > rank) i--;
  queue.splice(i, 0, id);
}
