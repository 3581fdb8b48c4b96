/**
 * Timers for any duration. Node's setTimeout fires after 1 ms for delays above 2^31-1 ms
 * (about 24.8 days), which once made `bp sweep --watch 30d` run a pass every millisecond and
 * `--step-timeout 30d` fail every step at once. Long delays are waited out in chunks instead.
 */

/** The longest delay Node's setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

/** Calls `fn` once after `ms` (any finite duration; Infinity never fires). */
export function setLongTimeout(fn: () => void, ms: number, maxChunkMs = MAX_TIMER_MS): LongTimer {
  let remaining = Math.max(0, ms);
  let handle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const chunk = Math.min(remaining, maxChunkMs);
    handle = setTimeout(() => {
      remaining -= chunk;
      if (remaining > 0) arm();
      else fn();
    }, chunk);
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}
