import { describe, it, expect } from 'vitest';
import { plan } from '../../src/plan/index.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';
import { simulate } from './simulate.js';

// Staged 2025-03-01T00:00Z; NOW is 12:00 the same day.
const STAGED = '2025-03-01T00:00:00.000Z';

describe('plan: TTL', () => {
  it('archives an expired revision without traffic and reports it', () => {
    const desired = env([dep('web', [rev('v1'), rev('v2', { ttl: '1h' })], split(['v1', 10000], ['v2', 0]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 10000], ['v2', 0]) },
      stagedAt: STAGED,
    });
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p.expired).toEqual([
      { deployment_id: 'web', revision_id: 'v2', expired_at: '2025-03-01T01:00:00.000Z', carries_traffic: false },
    ]);
    expect(p.steps.map((s) => `${s.id} ${s.reason}`)).toEqual([
      'drain:web/v2 ttl expired',
      'archive:web/v2 ttl expired',
    ]);
    // Once archived, the expired revision stays quietly archived even though the file still says ready.
    const after = simulate(p, desired, state, { now: NOW }).state;
    const again = plan({ desired, recorded: after, now: NOW });
    expect(again.steps).toEqual([]);
    expect(again.expired).toEqual([]);
  });

  it('only reports an expired revision that carries traffic', () => {
    const desired = env([dep('web', [rev('v1', { ttl: '2h' })], split(['v1', 10000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready' },
      splits: { web: split(['v1', 10000]) },
      stagedAt: STAGED,
    });
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p.steps).toEqual([]);
    expect(p.expired).toEqual([
      { deployment_id: 'web', revision_id: 'v1', expired_at: '2025-03-01T02:00:00.000Z', carries_traffic: true },
    ]);
  });

  it('counts traffic the file is about to give it as carrying traffic', () => {
    const desired = env([dep('web', [rev('v1'), rev('v2', { ttl: '1h' })], split(['v1', 5000], ['v2', 5000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 10000]) },
      stagedAt: STAGED,
    });
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p.expired[0].carries_traffic).toBe(true);
    expect(p.steps.map((s) => s.id)).toEqual(['split:web']);
  });

  it('does nothing before the TTL passes, and expires exactly at staged_at + ttl', () => {
    const desired = env([dep('web', [rev('v1'), rev('v2', { ttl: '12h' })], split(['v1', 10000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'staged' },
      splits: { web: split(['v1', 10000]) },
      stagedAt: STAGED,
    });
    const early = plan({ desired, recorded: state, now: new Date(NOW.getTime() - 1) });
    expect(early.expired).toEqual([]);
    expect(early.steps.map((s) => s.id)).toEqual(['warm:web/v2']);
    const onTime = plan({ desired, recorded: state, now: NOW });
    expect(onTime.steps.map((s) => `${s.id} ${s.from}->${s.to}`)).toEqual(['archive:web/v2 staged->archived']);
  });

  it('follows the file for a declared revision: a TTL can be extended or dropped', () => {
    const desired = env([dep('web', [rev('v1'), rev('v2', { ttl: '7d' })], split(['v1', 10000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'staged' },
      splits: { web: split(['v1', 10000]) },
      stagedAt: STAGED,
      revisions: { v2: { ttl: '1h' } },
    });
    expect(plan({ desired, recorded: state, now: NOW }).expired).toEqual([]);
    const dropped = structuredClone(desired);
    dropped.deployments[0].revisions[1].ttl = null;
    expect(plan({ desired: dropped, recorded: state, now: NOW }).expired).toEqual([]);
    // Removed from the file, the recorded TTL still reports the expiry.
    const removed = env([dep('web', [rev('v1')], split(['v1', 10000]))]);
    expect(plan({ desired: removed, recorded: state, now: NOW }).expired).toEqual([
      { deployment_id: 'web', revision_id: 'v2', expired_at: '2025-03-01T01:00:00.000Z', carries_traffic: false },
    ]);
  });

  it('still refuses to revive an archived revision whose TTL has not passed', () => {
    const desired = env([dep('web', [rev('v1'), rev('v2', { ttl: '30d' })], split(['v1', 10000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'archived' },
      splits: { web: split(['v1', 10000]) },
      stagedAt: STAGED,
    });
    expect(() => plan({ desired, recorded: state, now: NOW })).toThrow(/"v2" is archived, which is final/);
  });

  it('refuses to route traffic to an expired, archived revision', () => {
    const desired = env([dep('web', [rev('v1'), rev('v2', { ttl: '1h' })], split(['v1', 5000], ['v2', 5000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'archived' },
      splits: { web: split(['v1', 10000]) },
      stagedAt: STAGED,
    });
    expect(() => plan({ desired, recorded: state, now: NOW })).toThrow(
      /gives 5000 bps to revision "v2", which would be archived/,
    );
  });
});
