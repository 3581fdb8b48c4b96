import { describe, it, expect } from 'vitest';
import type { Environment } from '../../src/model/environment.js';
import type { RecordedState } from '../../src/model/state.js';
import { plan } from '../../src/plan/index.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';
import { simulate } from './simulate.js';

/** `id [deps] reason` per step, the compact form the rows below expect. */
function brief(desired: Environment, state: RecordedState | null, destroy = false): string[] {
  return plan({ desired, recorded: state, now: NOW, destroy }).steps.map(
    (s) => `${s.id} [${s.depends_on.join(' ')}] ${s.reason}`,
  );
}

const twoReady = (traffic: ReturnType<typeof split>, extra: Partial<Parameters<typeof dep>[3]> = {}) =>
  env([dep('web', [rev('v1'), rev('v2')], traffic, extra)]);
const recordedTwo = (enforced: ReturnType<typeof split>) =>
  recorded(twoReady(enforced), { lifecycles: { v1: 'ready', v2: 'ready' }, splits: { web: enforced } });

describe('plan: traffic splits', () => {
  it('promotes a canary to 100% with a split only, keeping the old revision warm', () => {
    const desired = twoReady(split(['v1', 0], ['v2', 10000]));
    expect(brief(desired, recordedTwo(split(['v1', 9000], ['v2', 1000])))).toEqual(['split:web [] losing all traffic']);
  });

  it('shuffles weights with a split only', () => {
    const desired = twoReady(split(['v1', 5000], ['v2', 5000]));
    expect(brief(desired, recordedTwo(split(['v1', 9000], ['v2', 1000])))).toEqual([
      'split:web [] traffic weights changed',
    ]);
  });

  it('treats a reordered split as a change (the file is the source of truth)', () => {
    const desired = twoReady(split(['v2', 1000], ['v1', 9000]));
    expect(brief(desired, recordedTwo(split(['v1', 9000], ['v2', 1000])))).toEqual([
      'split:web [] traffic weights changed',
    ]);
  });

  it('drains and archives a revision removed from the file only after the split takes its traffic', () => {
    const desired = env([dep('web', [rev('v2')], split(['v2', 10000]))]);
    const state = recorded(twoReady(split(['v1', 2000], ['v2', 8000])), {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 2000], ['v2', 8000]) },
    });
    expect(brief(desired, state)).toEqual([
      'split:web [] losing all traffic',
      'drain:web/v1 [split:web] removed from file',
      'archive:web/v1 [drain:web/v1] removed from file',
    ]);
    const sim = simulate(plan({ desired, recorded: state, now: NOW }), desired, state, { now: NOW });
    expect(sim.guardViolations).toEqual([]);
    expect(sim.state.revisions.v1.lifecycle).toBe('archived');
    expect(sim.state.deployments.web.split).toEqual(split(['v2', 10000]));
  });

  it('drains a revision that already lost its traffic without a split', () => {
    const desired = env([dep('web', [rev('v1', { state: 'inactive' }), rev('v2')], split(['v2', 10000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v2', 10000]) },
    });
    expect(brief(desired, state)).toEqual(['drain:web/v1 [] desired inactive']);
  });

  it('re-enforces the split when a revision with traffic is re-warmed, since its endpoint may change', () => {
    const desired = twoReady(split(['v1', 9000], ['v2', 1000]));
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'failed' },
      splits: { web: split(['v1', 9000], ['v2', 1000]) },
    });
    expect(brief(desired, state)).toEqual([
      'stage:web/v2 [] retry after failure',
      'warm:web/v2 [stage:web/v2] retry after failure',
      'split:web [warm:web/v2] re-point traffic at re-warmed revisions',
    ]);
  });

  it('does not re-enforce the split for a warmed revision that gets no traffic', () => {
    const desired = twoReady(split(['v1', 10000], ['v2', 0]));
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'staged' },
      splits: { web: split(['v1', 10000], ['v2', 0]) },
    });
    expect(brief(desired, state)).toEqual(['warm:web/v2 [] warm staged revision']);
  });

  it('re-enforces the split when listen changes', () => {
    const old = twoReady(split(['v1', 10000]));
    const state = recorded(old, { lifecycles: { v1: 'ready', v2: 'ready' }, splits: { web: split(['v1', 10000]) } });
    const desired = twoReady(split(['v1', 10000]), { listen: '127.0.0.1:9090' });
    expect(brief(desired, state)).toEqual(['split:web [] listen address changed']);
    const after = simulate(plan({ desired, recorded: state, now: NOW }), desired, state, { now: NOW }).state;
    expect(after.deployments.web.listen).toBe('127.0.0.1:9090');
    expect(brief(desired, after)).toEqual([]);
  });

  it('orders a blue/green swap: stage, warm, split, then drain the old one', () => {
    const desired = env([dep('web', [rev('blue', { state: 'inactive' }), rev('green')], split(['green', 10000]))]);
    const state = recorded(desired, { lifecycles: { blue: 'ready' }, splits: { web: split(['blue', 10000]) } });
    expect(brief(desired, state)).toEqual([
      'stage:web/green [] new revision',
      'warm:web/green [stage:web/green] new revision',
      'split:web [warm:web/green] gaining traffic',
      'drain:web/blue [split:web] losing all traffic',
    ]);
  });

  it('keeps deployments independent: no edge crosses deployments', () => {
    const desired = env([
      dep('web', [rev('w1'), rev('w2')], split(['w1', 5000], ['w2', 5000])),
      dep('api', [rev('a1')], split(['a1', 10000]), { listen: '127.0.0.1:8081' }),
    ]);
    const p = plan({ desired, recorded: null, now: NOW });
    for (const s of p.steps) {
      for (const d of s.depends_on) expect(p.steps.find((x) => x.id === d)!.deployment_id).toBe(s.deployment_id);
    }
    expect(p.steps.map((s) => s.deployment_id)).toEqual(['web', 'web', 'web', 'web', 'web', 'api', 'api', 'api']);
  });
});

describe('plan: teardown', () => {
  const both = env([
    dep('web', [rev('w1')], split(['w1', 10000])),
    dep('api', [rev('a1'), rev('a2', { state: 'inactive' })], split(['a1', 10000], ['a2', 0]), {
      listen: '127.0.0.1:8081',
    }),
  ]);
  const state = recorded(both, {
    lifecycles: { w1: 'ready', a1: 'ready', a2: 'staged' },
    splits: { web: split(['w1', 10000]), api: split(['a1', 10000], ['a2', 0]) },
  });

  it('drains and archives a deployment removed from the file, though it carries traffic', () => {
    const desired = env([both.deployments[0]]);
    expect(brief(desired, state)).toEqual([
      'drain:api/a1 [] deployment removed from file',
      'archive:api/a1 [drain:api/a1] deployment removed from file',
      'archive:api/a2 [] deployment removed from file',
    ]);
    const sim = simulate(plan({ desired, recorded: state, now: NOW }), desired, state, {
      now: NOW,
      teardown: (d) => d === 'api',
    });
    expect(sim.guardViolations).toEqual([]);
    expect(sim.state.deployments.api.split).toEqual([]);
    expect(brief(desired, sim.state)).toEqual([]);
  });

  it('destroys everything, skipping what was never created, with no split steps', () => {
    const desired = env([...both.deployments, dep('new', [rev('n1')], split(['n1', 10000]))]);
    const p = plan({ desired, recorded: state, now: NOW, destroy: true });
    expect(p.destroy).toBe(true);
    expect(p.steps.map((s) => `${s.id} ${s.reason}`)).toEqual([
      'drain:web/w1 destroy',
      'archive:web/w1 destroy',
      'drain:api/a1 destroy',
      'archive:api/a1 destroy',
      'archive:api/a2 destroy',
    ]);
    const sim = simulate(p, desired, state, { now: NOW, teardown: () => true });
    expect(Object.values(sim.state.revisions).every((r) => r.lifecycle === 'archived')).toBe(true);
    expect(plan({ desired, recorded: sim.state, now: NOW, destroy: true }).steps).toEqual([]);
  });

  it('destroys with nothing recorded as an empty plan', () => {
    expect(plan({ desired: both, recorded: null, now: NOW, destroy: true }).steps).toEqual([]);
  });

  it('treats empty traffic with no revision wanting ready as teardown', () => {
    const desired = env([dep('web', [rev('w1', { state: 'archived' })], [])]);
    const s = recorded(desired, { lifecycles: { w1: 'ready' }, splits: { web: split(['w1', 10000]) } });
    expect(brief(desired, s)).toEqual([
      'drain:web/w1 [] desired archived',
      'archive:web/w1 [drain:web/w1] desired archived',
    ]);
  });

  it('lists deployments in file order, then recorded-only ones sorted by id', () => {
    const desired = env([dep('b', [rev('b1')], split(['b1', 10000])), dep('a', [rev('a1')], split(['a1', 10000]))]);
    const s = recorded(desired, {
      lifecycles: { z1: 'staged', c1: 'staged' },
      placement: { z1: 'z', c1: 'c' },
    });
    expect(plan({ desired, recorded: s, now: NOW }).steps.map((x) => x.id)).toEqual([
      'stage:b/b1',
      'warm:b/b1',
      'split:b',
      'stage:a/a1',
      'warm:a/a1',
      'split:a',
      'archive:c/c1',
      'archive:z/z1',
    ]);
  });
});

describe('plan: the guard', () => {
  it('refuses to archive a revision the desired traffic still routes to', () => {
    const desired = env([dep('web', [rev('v1', { state: 'archived' }), rev('v2')], split(['v1', 5000], ['v2', 5000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 5000], ['v2', 5000]) },
    });
    expect(() => plan({ desired, recorded: state, now: NOW })).toThrow(
      /revision "v1" carries 5000 bps of the traffic of "web" and cannot be drained or archived/,
    );
  });

  it('refuses to drain a revision with traffic when no split moves it (desired traffic empty but a revision stays ready)', () => {
    const desired = env([dep('web', [rev('v1', { state: 'inactive' }), rev('v2')], [])]);
    const state = recorded(desired, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 10000]) },
    });
    expect(() => plan({ desired, recorded: state, now: NOW })).toThrow(/"v1" carries 10000 bps/);
  });

  it('refuses traffic to a revision that will not be ready', () => {
    const desired = env([dep('web', [rev('v1', { state: 'inactive' }), rev('v2')], split(['v1', 5000], ['v2', 5000]))]);
    const state = recorded(desired, {
      lifecycles: { v1: 'staged', v2: 'ready' },
      splits: { web: split(['v2', 10000]) },
    });
    expect(() => plan({ desired, recorded: state, now: NOW })).toThrow(
      /gives 5000 bps to revision "v1", which would be staged/,
    );
  });
});
