/**
 * Replicas mode: the order in which pod counts move from one split to the next. Scaling every
 * revision at once overshoots (a 25% canary briefly at 2 of 6 pods; a revision leaving the
 * split scaled up just before it is parked), so bp moves one pod at a time, like a rolling
 * update with maxSurge 1 and maxUnavailable 0: it adds a pod to the revision furthest below its
 * target share while the pool is at most one pod over its size, else removes one from the
 * revision furthest above it. Every intermediate state keeps each revision's pod count within
 * one pod of a share between its old and its new one (test/deployers/k8s-transition.test.ts
 * proves it over random splits), and capacity never drops below the smaller of the two pools.
 */

export type Counts = Record<string, number>;

export interface Step {
  revision: string;
  replicas: number;
}

const total = (c: Counts) => Object.values(c).reduce((a, n) => a + n, 0);

/** One-pod moves from `from` to `to` (revisions absent from one side count as 0 pods there). */
export function transitionSteps(from: Counts, to: Counts): Step[] {
  const ids = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  const now: Counts = Object.fromEntries(ids.map((id) => [id, from[id] ?? 0]));
  const want: Counts = Object.fromEntries(ids.map((id) => [id, to[id] ?? 0]));
  const fromTotal = total(now);
  const wantTotal = total(want);
  const shareOf = (c: Counts, t: number) => (id: string) => (t === 0 ? 0 : c[id] / t);
  const [oldShare, newShare] = [shareOf({ ...now }, fromTotal), shareOf(want, wantTotal)];
  const lo = (id: string) => Math.min(oldShare(id), newShare(id));
  const hi = (id: string) => Math.max(oldShare(id), newShare(id));
  const ceiling = Math.max(fromTotal, wantTotal) + 1;
  const start = { ...now };
  const length = ids.reduce((a, id) => a + Math.abs(want[id] - start[id]), 0);
  /**
   * How far the worst revision is outside its [old, new] share band; then how far the counts are
   * from the straight line between the two pools, whose every point has shares inside the bands.
   */
  const score = (c: Counts, step: number): [number, number] => {
    const n = total(c);
    const p = step / length;
    let outside = 0;
    let distance = 0;
    for (const id of ids) {
      outside = Math.max(outside, lo(id) * n - c[id], c[id] - hi(id) * n);
      distance += (c[id] - (start[id] + p * (want[id] - start[id]))) ** 2;
    }
    return [outside, distance];
  };
  const steps: Step[] = [];
  for (;;) {
    const n = total(now);
    const growers = ids.filter((id) => now[id] < want[id]);
    const shrinkers = ids.filter((id) => now[id] > want[id]);
    if (growers.length === 0 && shrinkers.length === 0) return steps;
    // Surge at most one pod over the larger pool; never shrink below the smaller one while growing is possible.
    const canGrow = growers.length > 0 && (n + 1 <= ceiling || shrinkers.length === 0);
    const canShrink = shrinkers.length > 0 && (n - 1 >= Math.min(fromTotal, wantTotal) || !canGrow);
    const moves = [
      ...(canGrow ? growers.map((id) => ({ id, d: 1 })) : []),
      ...(canShrink ? shrinkers.map((id) => ({ id, d: -1 })) : []),
    ];
    let best = moves[0];
    let bestScore = [Infinity, Infinity];
    for (const m of moves) {
      now[m.id] += m.d;
      const sc = score(now, steps.length + 1);
      now[m.id] -= m.d;
      // Ties go to growing: capacity first.
      if (sc[0] < bestScore[0] - 1e-9 || (Math.abs(sc[0] - bestScore[0]) <= 1e-9 && sc[1] < bestScore[1] - 1e-9)) {
        best = m;
        bestScore = sc;
      }
    }
    now[best.id] += best.d;
    steps.push({ revision: best.id, replicas: now[best.id] });
  }
}
