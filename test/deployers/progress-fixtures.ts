/**
 * Checks shared by the tests that deployers report live progress: a recorder standing in for
 * bp's `progress` callback, and what a meaningful sequence of reports looks like.
 */
import { expect } from 'vitest';
import type { DeployerRevision, VerbOptions, VerbProgress } from '../../src/model/deployer.js';

export interface ProgressRecorder {
  seen: VerbProgress[];
  /** Verb options whose `progress` appends to `seen`. */
  opts(): VerbOptions;
  /** Forgets what was seen (between verbs). */
  clear(): void;
}

export function progressRecorder(): ProgressRecorder {
  const seen: VerbProgress[] = [];
  return {
    seen,
    opts: () => ({ signal: new AbortController().signal, progress: (p) => void seen.push(p) }),
    clear: () => void seen.splice(0),
  };
}

/**
 * Replica counts (`k/n <unit>`) in every report, never going down and ending at n/n; all
 * reports name the same wait. `startsBelow`: the first report counts fewer than n (false where
 * a loaded machine may see every replica healthy at the first check). Returns the `last`
 * details seen, for the caller's checks.
 */
export function expectCountsReach(seen: VerbProgress[], wanted: number, unit: string, startsBelow = true): string[] {
  expect(seen.length, 'progress reports').toBeGreaterThan(0);
  expect(new Set(seen.map((s) => s.waiting_for)).size, 'one wait named').toBe(1);
  const counts = seen.map((s) => {
    const m = new RegExp(`^(\\d+)/${wanted} ${unit}$`).exec(s.status ?? '');
    expect(m, `status "${s.status}"`).not.toBeNull();
    return Number(m![1]);
  });
  if (startsBelow) expect(counts[0], 'starts below n').toBeLessThan(wanted);
  expect(counts.at(-1), 'ends at n/n').toBe(wanted);
  for (let i = 1; i < counts.length; i++) expect(counts[i], `count ${i}`).toBeGreaterThanOrEqual(counts[i - 1]);
  return [...new Set(seen.map((s) => s.last).filter((l): l is string => !!l))];
}

/** A drain's reports: what it waits for, and the time left, never more than `seconds` and never going up. */
export function expectTimeLeft(seen: VerbProgress[], waitingFor: string | RegExp, seconds: number): void {
  expect(seen.length, 'drain progress reports').toBeGreaterThan(0);
  const left = seen.map((s) => {
    expect(s.waiting_for).toMatch(waitingFor);
    const m = /(\d+)s left$/.exec(s.status ?? '');
    expect(m, `status "${s.status}"`).not.toBeNull();
    return Number(m![1]);
  });
  expect(left[0]).toBeLessThanOrEqual(seconds);
  for (let i = 1; i < left.length; i++) expect(left[i], `time left ${i}`).toBeLessThanOrEqual(left[i - 1]);
}

/**
 * `Prog.bad`, made by a deployer test's own `revision` fixture: one replica of an image no
 * registry serves, with a 1 s health timeout, so its VMs never pass a health check.
 */
export function neverHealthyRevision(
  revision: (id: string, over: Partial<DeployerRevision>) => DeployerRevision,
): DeployerRevision {
  return revision('Prog.bad', {
    artifact: { image: 'registry.invalid/team/app:1', env: {} },
    resources: { cpu: 0.5, memory_mb: 512, replicas: 1, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 1 },
  });
}
