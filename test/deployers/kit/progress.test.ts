/**
 * The kit's progress reporting: replica counts reaching n/n, and bounded waits (drain
 * countdowns, in-flight waits) that say what they wait for and the time left. A fake clock
 * advances time instead of sleeping.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/deployers/kit/abort.js';
import { replicaProgress, secondsLeft, waitOutDrain } from '../../../src/deployers/kit/progress.js';
import { type RouterSite, waitForInFlight } from '../../../src/deployers/kit/router-fleet.js';
import type { DeployerRevision, VerbProgress } from '../../../src/model/deployer.js';
import type { RouterStatus } from '../../../src/router/config.js';

function fakeClock(): Clock {
  let t = 0;
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

const rev = (drain_seconds: number) => ({ revision_id: 'web-v1', drain_seconds }) as DeployerRevision;

describe('replicaProgress', () => {
  it('counts healthy replicas up to n/n, keeping the last failed check', () => {
    const seen: VerbProgress[] = [];
    const p = replicaProgress((r) => seen.push(r), { waitingFor: 'replicas of "a" to answer /healthz', wanted: 2 });
    p.pending('last probe ECONNREFUSED');
    p.healthy();
    p.healthy();
    p.healthy(); // never past wanted
    expect(seen.map((s) => s.status)).toEqual([
      '0/2 replicas healthy',
      '1/2 replicas healthy',
      '2/2 replicas healthy',
      '2/2 replicas healthy',
    ]);
    expect(seen[1]).toEqual({
      waiting_for: 'replicas of "a" to answer /healthz',
      status: '1/2 replicas healthy',
      last: 'last probe ECONNREFUSED',
    });
  });

  it('is a no-op without a callback, and a callback that throws never fails the wait', () => {
    expect(() => replicaProgress(undefined, { waitingFor: 'x', wanted: 1 }).healthy()).not.toThrow();
    const throwing = replicaProgress(
      () => {
        throw new Error('view broke');
      },
      { waitingFor: 'x', wanted: 1 },
    );
    expect(() => throwing.set(1, 'ok')).not.toThrow();
  });
});

describe('drain waits', () => {
  it('secondsLeft rounds up and never goes below 0', () => {
    expect([secondsLeft(30_000), secondsLeft(29_001), secondsLeft(1), secondsLeft(-5)]).toEqual([
      '30s left',
      '30s left',
      '1s left',
      '0s left',
    ]);
  });

  it('waitOutDrain counts drain_seconds down once a second, saying what it waits for', async () => {
    const seen: VerbProgress[] = [];
    const clock = fakeClock();
    await waitOutDrain(rev(5), { signal: new AbortController().signal, progress: (p) => seen.push(p) }, { clock });
    expect(clock.now()).toBe(5000);
    expect(seen.map((s) => s.status)).toEqual(['5s left', '4s left', '3s left', '2s left', '1s left']);
    expect(new Set(seen.map((s) => s.waiting_for))).toEqual(new Set(['requests in flight to "web-v1" to finish']));
  });

  it('waitOutDrain ends at once on an aborted signal, and does not wait at drain_seconds 0', async () => {
    await expect(waitOutDrain(rev(30), { signal: AbortSignal.abort() }, { clock: fakeClock() })).rejects.toMatchObject({
      code: 'Aborted',
      message: 'draining "web-v1" was aborted',
    });
    const clock = fakeClock();
    await waitOutDrain(rev(0), { signal: new AbortController().signal }, { clock, what: 'x' });
    expect(clock.now()).toBe(0);
  });

  it('waitForInFlight reports the requests still in flight and the time left, per host', async () => {
    const counts = [3, 2, 1, 0];
    let calls = 0;
    const status = (n: number) =>
      ({
        config: { deployment_id: 'web', entries: [], draining: ['web-v1'] },
        backends: [{ revision_id: 'web-v1', backend: '127.0.0.1:1', healthy: true, in_flight: n }],
      }) as unknown as RouterStatus;
    const site: RouterSite = { status: async () => status(counts[calls++]), reconfigure: async () => undefined };
    const seen: VerbProgress[] = [];
    await waitForInFlight(site, rev(30), new AbortController().signal, {
      clock: fakeClock(),
      intervalMs: 1000,
      progress: (p) => seen.push(p),
      where: 'on host-a',
    });
    expect(seen).toEqual([
      { waiting_for: 'requests in flight to "web-v1" on host-a to finish', status: '3 in flight, 30s left' },
      { waiting_for: 'requests in flight to "web-v1" on host-a to finish', status: '2 in flight, 29s left' },
      { waiting_for: 'requests in flight to "web-v1" on host-a to finish', status: '1 in flight, 28s left' },
    ]);
  });
});
