/**
 * Serializes async work per key: bp runs verbs in parallel, and a deployer's read-modify-write
 * of one router, rule or revision must not interleave. Keys with no queued work are forgotten.
 */
export type Exclusive = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

export function keyedMutex(): Exclusive {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
