/**
 * Smooth weighted round-robin (the algorithm nginx uses for `weight=`): deterministic, so
 * over any run of N picks each item's share is exact to within one pick, and picks are
 * interleaved rather than bursty. Randomness would add per-request variance for nothing.
 */
export interface Weighted<T> {
  value: T;
  weight: number;
}

export class SmoothWeightedRoundRobin<T> {
  private readonly items: Weighted<T>[];
  private readonly current: number[];

  constructor(items: readonly Weighted<T>[]) {
    this.items = items.filter((i) => i.weight > 0).map((i) => ({ value: i.value, weight: i.weight }));
    this.current = this.items.map(() => 0);
  }

  /**
   * Next value among those `eligible` accepts; undefined when none is eligible. Ineligible
   * items sit the round out, so their share flows to the others until they come back.
   */
  next(eligible?: (value: T) => boolean): T | undefined {
    let total = 0;
    let best = -1;
    for (let i = 0; i < this.items.length; i++) {
      const item = this.items[i];
      if (eligible && !eligible(item.value)) continue;
      this.current[i] += item.weight;
      total += item.weight;
      if (best < 0 || this.current[i] > this.current[best]) best = i;
    }
    if (best < 0) return undefined;
    this.current[best] -= total;
    return this.items[best].value;
  }
}
