import type { Harness } from '../harness.js';

/** One named, independent check: it gets a fresh fixture and the runner cleans up after it. */
export interface Check {
  name: string;
  /** One line for `--help` style listings and the docs. */
  summary: string;
  run(h: Harness): Promise<void>;
}

export function entries(...pairs: Array<[string, number]>): Array<{ revision_id: string; weight_bps: number }> {
  return pairs.map(([revision_id, weight_bps]) => ({ revision_id, weight_bps }));
}

/** Like Promise.all, but waits for every call so none is still running when cleanup starts. */
export async function allSettled<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
