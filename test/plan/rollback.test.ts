/** decideRollback and promotionGate: pure decisions from recorded state, table-tested. */
import { describe, expect, it } from 'vitest';
import type { HistoryEntry, RecordedState } from '../../src/model/state.js';
import { decideRollback, losingMost } from '../../src/plan/rollback.js';
import { promotionGate, soakingSince } from '../../src/plan/promotion.js';
import { freshState, revision } from '../state/builders.js';

const spec = {
  artifact: { command: ['x'], env: {} },
  resources: { cpu: 1, memory_mb: 1, replicas: 1, gpu: 0 },
  health: { http_path: '/', timeout_seconds: 1 },
};
const s = (...e: Array<[string, number]>) => e.map(([revision_id, weight_bps]) => ({ revision_id, weight_bps }));
function entry(id: number, split: ReturnType<typeof s>, o: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id,
    at: `2026-01-01T0${id}:00:00.000Z`,
    operation: 'apply',
    actor: { user: 'u', host: 'h', ci: {} },
    plan_digest: null,
    steps: { total: 1, succeeded: 1, failed: 0, skipped: 0, not_started: 0 },
    outcome: 'succeeded',
    splits: { web: split },
    rollouts: {},
    ...o,
  };
}
function state(
  split: ReturnType<typeof s>,
  history: HistoryEntry[],
  v1: 'inactive' | 'ready' = 'inactive',
): RecordedState {
  const st = freshState('env');
  st.deployments.web = { deployment_id: 'web', deployer: 'local', listen: null, split };
  st.revisions.v1 = revision('v1', { lifecycle: v1, spec });
  st.revisions.v2 = revision('v2', { lifecycle: 'ready', spec });
  st.history = history;
  return st;
}
const now = new Date('2026-01-01T09:00:00Z');

describe('decideRollback', () => {
  const canaryDone = state(s(['v2', 10000]), [entry(1, s(['v1', 10000])), entry(2, s(['v2', 10000]))]);

  it('restores the last different successful split, holding the revision that lost traffic', () => {
    const d = decideRollback(canaryDone, 'web', undefined, now);
    expect(d.entry.id).toBe(1);
    expect(d.restored).toEqual(s(['v1', 10000]));
    expect(d.canary).toBe('v2');
    expect(d.progress).toMatchObject({
      status: 'rolled_back',
      stable: s(['v1', 10000]),
      target: s(['v2', 10000]),
      canary: 'v2',
    });
  });

  const refusals: Array<[string, RecordedState, number | undefined, RegExp]> = [
    ['an unknown deployment', canaryDone, undefined, /no deployment "api"/],
    ['an entry that does not exist', canaryDone, 7, /no entry #7 recording deployment "web"/],
    ['the split already in force', canaryDone, 2, /already runs the split of entry #2/],
    [
      'no earlier split',
      state(s(['v2', 10000]), [entry(1, s(['v2', 10000]))]),
      undefined,
      /no earlier successful split/,
    ],
    [
      'an archived revision',
      (() => {
        const st = structuredClone(canaryDone);
        st.revisions.v1.lifecycle = 'archived';
        return st;
      })(),
      undefined,
      /revision v1 is archived \(archived revisions are final\)/,
    ],
    [
      'a rollout in progress',
      (() => {
        const st = structuredClone(canaryDone);
        st.deployments.web.rollout = {
          ...decideRollback(canaryDone, 'web', undefined, now).progress,
          status: 'paused',
        };
        return st;
      })(),
      undefined,
      /is paused: stop it with bp rollout abort env web/,
    ],
  ];
  it.each(refusals)('refuses %s', (_name, st, to, message) => {
    expect(() => decideRollback(st, _name === 'an unknown deployment' ? 'api' : 'web', to, now)).toThrow(message);
  });

  it('losingMost picks the revision whose weight drops most', () => {
    expect(losingMost(s(['a', 5000], ['b', 5000]), s(['a', 9000], ['b', 1000]))).toBe('b');
    expect(losingMost(s(['a', 10000]), s(['b', 10000]))).toBe('a');
  });
});

describe('promotionGate', () => {
  const soaking = state(
    s(['v1', 9000], ['v2', 1000]),
    [
      entry(1, s(['v2', 10000])),
      entry(2, s(['v1', 10000])),
      entry(3, s(['v1', 9000], ['v2', 1000])),
      entry(4, s(['v1', 9000], ['v2', 1000]), { operation: 'promote', outcome: 'recorded' }),
    ],
    'ready',
  );

  it('measures the soak from the oldest entry of the newest unbroken run', () => {
    expect(soakingSince(soaking, 'web', 'v2')).toBe('2026-01-01T03:00:00.000Z');
    expect(promotionGate(soaking, 'env', 'web', 'v2', 6 * 3600_000, now)).toEqual({
      reasons: [],
      soakingSince: '2026-01-01T03:00:00.000Z',
    });
    expect(promotionGate(soaking, 'env', 'web', 'v2', 7 * 3600_000, now).reasons).toEqual([
      'it has carried traffic for 6h (since 2026-01-01T03:00:00.000Z), less than --min-soak 7h',
    ]);
  });

  it('names every reason at once', () => {
    const st = structuredClone(soaking);
    st.revisions.v2.lifecycle = 'draining';
    st.deployments.web.split = s(['v1', 10000]);
    st.deployments.web.rollout = {
      ...decideRollback(canaryDoneFor(), 'web', undefined, now).progress,
      message: 'analysis failed',
      status: 'rolled_back',
    };
    expect(promotionGate(st, 'env', 'web', 'v2', 0, now).reasons).toEqual([
      'revision v2 is draining in "env", not ready',
      'its rollout in "env" is rolled back: analysis failed',
      'it carries no traffic in "env"',
    ]);
  });

  it('refuses without state, or a revision never applied', () => {
    expect(promotionGate(null, 'env', 'web', 'v2', 0, now).reasons).toEqual([
      'environment "env" has no recorded state: apply it first',
    ]);
    expect(promotionGate(soaking, 'env', 'web', 'v9', 0, now).reasons).toEqual([
      '"env" has never applied revision v9 of web',
    ]);
  });
});

function canaryDoneFor(): RecordedState {
  return state(s(['v2', 10000]), [entry(1, s(['v1', 10000])), entry(2, s(['v2', 10000]))]);
}
