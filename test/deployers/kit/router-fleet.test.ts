import { describe, expect, it } from 'vitest';
import {
  entryUpdate,
  inFlight,
  refreshEntry,
  type RouterSite,
  splitConfig,
  waitForInFlight,
} from '../../../src/deployers/kit/router-fleet.js';
import type { DeployerRevision } from '../../../src/model/deployer.js';
import type { RouterConfig, RouterStatus } from '../../../src/router/config.js';

function status(over: Partial<RouterConfig> = {}, backends: RouterStatus['backends'] = []): RouterStatus {
  return {
    deployment_id: 'web',
    listen: '127.0.0.1:8080',
    pid: 1,
    backends,
    config: {
      deployment_id: 'web',
      draining: [],
      entries: [
        { revision_id: 'a', weight_bps: 9000, backends: ['http://127.0.0.1:1'], health_path: '/' },
        { revision_id: 'b', weight_bps: 1000, backends: ['http://127.0.0.1:2'], health_path: '/' },
      ],
      ...over,
    },
  };
}
const backend = (revision_id: string, healthy: boolean, in_flight = 0) => ({
  url: 'http://x',
  revision_id,
  healthy,
  in_flight,
  requests: 0,
  last_error: null,
});

describe('entryUpdate (pure)', () => {
  it('is null when nothing changes or the router does not route the revision', () => {
    expect(entryUpdate(status(), 'a', null, false)).toBeNull();
    expect(entryUpdate(status(), 'a', ['http://127.0.0.1:1'], false)).toBeNull();
    expect(entryUpdate(status(), 'zzz', [], true)).toBeNull();
  });

  it('replaces backends, marks and unmarks draining, and leaves other entries alone', () => {
    const next = entryUpdate(status(), 'b', ['http://127.0.0.1:3'], true) as RouterConfig;
    expect(next.entries[1].backends).toEqual(['http://127.0.0.1:3']);
    expect(next.entries[0]).toEqual(status().config.entries[0]);
    expect(next.draining).toEqual(['b']);
    expect(entryUpdate(status({ draining: ['b'] }), 'b', null, false)?.draining).toEqual([]);
    expect(entryUpdate(status({ draining: ['b'] }), 'b', null, true)).toBeNull();
  });

  it('re-pushes an unchanged entry whose backend the router marked down', () => {
    expect(entryUpdate(status({}, [backend('a', false)]), 'a', null, false)).toEqual(status().config);
  });
});

describe('splitConfig (pure)', () => {
  it('keeps draining only revisions that stay in the split without gaining traffic', () => {
    const entries = [
      { revision_id: 'a', weight_bps: 10000, backends: [], health_path: '/' },
      { revision_id: 'b', weight_bps: 0, backends: [], health_path: '/' },
    ];
    expect(
      splitConfig('web', entries, { deployment_id: 'web', entries: [], draining: ['a', 'b', 'gone'] }).draining,
    ).toEqual(['b']);
    expect(splitConfig('web', entries, null).draining).toEqual([]);
  });
});

describe('site helpers', () => {
  function site(s: RouterStatus | null): RouterSite & { pushed: RouterConfig[] } {
    const pushed: RouterConfig[] = [];
    return { pushed, status: async () => s, reconfigure: async (c) => pushed.push(c) };
  }

  it('refreshEntry pushes only a changed config and reports whether a router routes the revision', async () => {
    const s = site(status());
    expect(await refreshEntry(s, 'a', null, false)).toBe(true);
    expect(s.pushed).toHaveLength(0);
    expect(await refreshEntry(s, 'a', null, true)).toBe(true);
    expect(s.pushed[0].draining).toEqual(['a']);
    expect(await refreshEntry(site(null), 'a', null, true)).toBe(false);
  });

  it('waitForInFlight returns once nothing is in flight, polling the router', async () => {
    const counts = [2, 1, 0];
    let calls = 0;
    const s: RouterSite = {
      status: async () => status({}, [backend('b', true, counts[calls++])]),
      reconfigure: async () => undefined,
    };
    let t = 0;
    const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) };
    const revision = { revision_id: 'b', drain_seconds: 30 } as DeployerRevision;
    await waitForInFlight(s, revision, new AbortController().signal, { clock });
    expect(calls).toBe(3);
    expect(inFlight(status({}, [backend('b', true, 2), backend('b', true, 3), backend('a', true, 7)]), 'b')).toBe(5);
  });

  it('waitForInFlight gives up quietly after drain_seconds', async () => {
    let t = 0;
    const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) };
    const s: RouterSite = {
      status: async () => status({}, [backend('b', true, 1)]),
      reconfigure: async () => undefined,
    };
    await waitForInFlight(s, { revision_id: 'b', drain_seconds: 2 } as DeployerRevision, new AbortController().signal, {
      clock,
    });
    expect(t).toBe(2000);
  });
});
