import { describe, it, expect } from 'vitest';
import type { Observation } from '../../src/model/deployer.js';
import { canTransition } from '../../src/model/state.js';
import { plan } from '../../src/plan/index.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';
import { simulate } from './simulate.js';

const desired = env([dep('web', [rev('v1'), rev('v2')], split(['v1', 9000], ['v2', 1000]))]);
const state = recorded(desired, {
  lifecycles: { v1: 'ready', v2: 'ready' },
  splits: { web: split(['v1', 9000], ['v2', 1000]) },
});
const healthy = (): Observation => ({
  revisions: { v1: { present: true, healthy: true }, v2: { present: true, healthy: true } },
  splits: { web: split(['v1', 9000], ['v2', 1000]) },
});

describe('plan: drift', () => {
  it('sees nothing when the provider runs what was recorded', () => {
    const p = plan({ desired, recorded: state, now: NOW, observed: healthy() });
    expect(p.drift).toEqual([]);
    expect(p.steps).toEqual([]);
  });

  const rows: Array<{ name: string; observe: (o: Observation) => void; kind: string; reason: string }> = [
    {
      name: 'missing from the observation',
      observe: (o) => delete o.revisions.v2,
      kind: 'revision_missing',
      reason: 'drift: revision not running',
    },
    {
      name: 'observed not present',
      observe: (o) => (o.revisions.v2.present = false),
      kind: 'revision_missing',
      reason: 'drift: revision not running',
    },
    {
      name: 'observed unhealthy',
      observe: (o) => (o.revisions.v2.healthy = false),
      kind: 'revision_unhealthy',
      reason: 'drift: revision unhealthy',
    },
  ];
  for (const row of rows) {
    it(`rebuilds a ready revision ${row.name} (as failed: stage, warm, re-split)`, () => {
      const observed = healthy();
      row.observe(observed);
      const p = plan({ desired, recorded: state, now: NOW, observed });
      expect(p.drift).toEqual([expect.objectContaining({ deployment_id: 'web', revision_id: 'v2', kind: row.kind })]);
      expect(p.steps.map((s) => `${s.id} ${s.from ?? ''}->${s.to ?? ''} ${s.reason}`)).toEqual([
        `stage:web/v2 failed->staged ${row.reason}`,
        `warm:web/v2 staged->ready ${row.reason}`,
        'split:web -> re-point traffic at re-warmed revisions',
      ]);
      // Applying records ready -> failed -> staged -> warming -> ready: every hop allowed.
      const sim = simulate(p, desired, state, { now: NOW });
      expect(sim.failed).toEqual([]);
      expect(sim.state.revisions.v2.lifecycle).toBe('ready');
      expect(plan({ desired, recorded: sim.state, now: NOW, observed: healthy() }).steps).toEqual([]);
    });
  }

  it('records ready -> failed before restaging so recorded history stays legal', () => {
    const observed = healthy();
    observed.revisions.v2.present = false;
    const p = plan({ desired, recorded: state, now: NOW, observed });
    const crashed = simulate(p, desired, state, { now: NOW, crashAt: 'stage:web/v2' }).state;
    expect(crashed.revisions.v2.lifecycle).toBe('failed');
    expect(canTransition('ready', 'failed')).toBe(true);
    expect(crashed.pending['stage:web/v2']).toMatchObject({ lock_id: 'test-lock' });
    const resumed = plan({ desired, recorded: crashed, now: NOW });
    expect(resumed.steps.map((s) => `${s.id} ${s.reason}`)).toEqual([
      'stage:web/v2 resume interrupted stage',
      'warm:web/v2 retry after failure',
      'split:web re-point traffic at re-warmed revisions',
    ]);
  });

  it('does not look for drift of a revision that is not meant to stay ready', () => {
    const d = env([dep('web', [rev('v1'), rev('v2', { state: 'inactive' })], split(['v1', 10000], ['v2', 0]))]);
    const s = recorded(d, {
      lifecycles: { v1: 'ready', v2: 'ready' },
      splits: { web: split(['v1', 10000], ['v2', 0]) },
    });
    const observed = healthy();
    delete observed.revisions.v2;
    observed.splits.web = split(['v1', 10000]);
    const p = plan({ desired: d, recorded: s, now: NOW, observed });
    expect(p.drift).toEqual([]);
    expect(p.steps.map((x) => x.id)).toEqual(['drain:web/v2']);
  });

  it('re-enforces a split changed outside bp', () => {
    const observed = healthy();
    observed.splits.web = split(['v1', 10000]);
    const p = plan({ desired, recorded: state, now: NOW, observed });
    expect(p.drift).toEqual([
      {
        deployment_id: 'web',
        revision_id: null,
        kind: 'split_changed',
        message: 'traffic split of "web" was changed outside bp (enforced v1=9000, v2=1000, observed v1=10000)',
      },
    ]);
    expect(p.steps).toEqual([
      expect.objectContaining({ id: 'split:web', depends_on: [], reason: 'drift: split changed outside bp' }),
    ]);
  });

  it('ignores split order and zero-weight entries when comparing', () => {
    const observed = healthy();
    observed.splits.web = [...split(['v2', 1000], ['v1', 9000]), { revision_id: 'v3', weight_bps: 0 }];
    expect(plan({ desired, recorded: state, now: NOW, observed }).drift).toEqual([]);
  });

  it('sees no split drift when the observation has no split for the deployment, or nothing was enforced', () => {
    const observed = healthy();
    delete observed.splits.web;
    expect(plan({ desired, recorded: state, now: NOW, observed }).drift).toEqual([]);
    const unrouted = recorded(desired, { lifecycles: { v1: 'ready', v2: 'ready' } });
    const p = plan({ desired, recorded: unrouted, now: NOW, observed: healthy() });
    expect(p.drift).toEqual([]);
    expect(p.steps.map((s) => s.id)).toEqual(['split:web']);
  });

  it('reports revisions bp does not manage, or has archived, without planning steps for them', () => {
    const d = env([dep('web', [rev('v1'), rev('v2', { state: 'archived' })], split(['v1', 10000]))]);
    const s = recorded(d, { lifecycles: { v1: 'ready', v2: 'archived' }, splits: { web: split(['v1', 10000]) } });
    const observed: Observation = {
      revisions: {
        v1: { present: true, healthy: true },
        v2: { present: true, healthy: true },
        stray: { present: true, healthy: false },
        gone: { present: false, healthy: false },
      },
      splits: { web: split(['v1', 10000]) },
    };
    const p = plan({ desired: d, recorded: s, now: NOW, observed });
    expect(p.steps).toEqual([]);
    expect(p.drift.map((x) => [x.kind, x.deployment_id, x.revision_id])).toEqual([
      ['unmanaged_revision', '', 'stray'],
      ['unmanaged_revision', 'web', 'v2'],
    ]);
  });

  it('reports no drift when refresh was skipped', () => {
    expect(plan({ desired, recorded: state, now: NOW, observed: null }).drift).toEqual([]);
  });
});
