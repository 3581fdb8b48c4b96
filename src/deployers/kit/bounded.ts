/**
 * Runs `fn` over `items` with at most `limit` calls in flight, keeping the input order in the
 * result. Refresh makes one call per revision where a provider has no list form (ELBv2 target
 * health); the bound keeps 1,000 revisions from becoming 1,000 simultaneous requests.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k], k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

/** Calls in flight per observe: enough to hide latency, few enough to stay under API rate limits. */
export const OBSERVE_CONCURRENCY = 8;
