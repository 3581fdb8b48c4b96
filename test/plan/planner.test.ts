import { describe, it, expect } from 'vitest';
import type { LifecycleState } from '../../src/model/state.js';
import { PlanError } from '../../src/model/errors.js';
import type { DesiredState } from '../../src/model/environment.js';
import { plan } from '../../src/plan/index.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';
import { simulate } from './simulate.js';

type Current = LifecycleState | 'none';
interface Row {
  current: Current;
  target: DesiredState;
  /** `verb from->to` per step in dependency order, or the error expected. */
  steps: string[] | { error: RegExp };
  final: LifecycleState | 'none';
}

const ROWS: Row[] = [
  { current: 'none', target: 'ready', steps: ['stage inactive->staged', 'warm staged->ready'], final: 'ready' },
  { current: 'inactive', target: 'ready', steps: ['stage inactive->staged', 'warm staged->ready'], final: 'ready' },
  { current: 'staged', target: 'ready', steps: ['warm staged->ready'], final: 'ready' },
  { current: 'warming', target: 'ready', steps: ['warm warming->ready'], final: 'ready' },
  { current: 'ready', target: 'ready', steps: [], final: 'ready' },
  {
    current: 'draining',
    target: 'ready',
    steps: ['drain draining->inactive', 'stage inactive->staged', 'warm staged->ready'],
    final: 'ready',
  },
  { current: 'failed', target: 'ready', steps: ['stage failed->staged', 'warm staged->ready'], final: 'ready' },
  {
    current: 'archived',
    target: 'ready',
    steps: { error: /"r1" is archived, which is final; declare a new revision id/ },
    final: 'archived',
  },

  { current: 'none', target: 'inactive', steps: [], final: 'none' },
  { current: 'inactive', target: 'inactive', steps: [], final: 'inactive' },
  { current: 'staged', target: 'inactive', steps: [], final: 'staged' },
  {
    current: 'warming',
    target: 'inactive',
    steps: ['warm warming->ready', 'drain ready->inactive'],
    final: 'inactive',
  },
  { current: 'ready', target: 'inactive', steps: ['drain ready->inactive'], final: 'inactive' },
  { current: 'draining', target: 'inactive', steps: ['drain draining->inactive'], final: 'inactive' },
  { current: 'failed', target: 'inactive', steps: [], final: 'failed' },
  { current: 'archived', target: 'inactive', steps: { error: /"r1" is archived, which is final/ }, final: 'archived' },

  { current: 'none', target: 'archived', steps: [], final: 'none' },
  { current: 'inactive', target: 'archived', steps: ['archive inactive->archived'], final: 'archived' },
  { current: 'staged', target: 'archived', steps: ['archive staged->archived'], final: 'archived' },
  { current: 'warming', target: 'archived', steps: ['archive warming->archived'], final: 'archived' },
  {
    current: 'ready',
    target: 'archived',
    steps: ['drain ready->inactive', 'archive inactive->archived'],
    final: 'archived',
  },
  {
    current: 'draining',
    target: 'archived',
    steps: ['drain draining->inactive', 'archive inactive->archived'],
    final: 'archived',
  },
  { current: 'failed', target: 'archived', steps: ['archive failed->archived'], final: 'archived' },
  { current: 'archived', target: 'archived', steps: [], final: 'archived' },
];

/** r1 is the revision under test; base carries all traffic so the split never changes. */
function scenario(current: Current, target: DesiredState) {
  const desired = env([dep('web', [rev('base'), rev('r1', { state: target })], split(['base', 10000]))]);
  const lifecycles: Record<string, LifecycleState> = { base: 'ready' };
  if (current !== 'none') lifecycles.r1 = current;
  return { desired, state: recorded(desired, { lifecycles, splits: { web: split(['base', 10000]) } }) };
}

describe('plan: every lifecycle x target', () => {
  for (const row of ROWS) {
    it(`${row.current} -> ${row.target}`, () => {
      const { desired, state } = scenario(row.current, row.target);
      if (!Array.isArray(row.steps)) {
        expect(() => plan({ desired, recorded: state, now: NOW })).toThrow(row.steps.error);
        return;
      }
      const p = plan({ desired, recorded: state, now: NOW });
      expect(p.steps.every((s) => s.deployment_id === 'web' && s.revision_id === 'r1')).toBe(true);
      const byChain = orderedChain(p.steps);
      expect(byChain.map((s) => `${s.verb} ${s.from}->${s.to}`)).toEqual(row.steps);
      // Each step of a chain waits for the one before it.
      byChain.forEach((s, i) => expect(s.depends_on).toEqual(i === 0 ? [] : [byChain[i - 1].id]));
      expect(p.changes).toBe(row.steps.length > 0);

      const after = simulate(p, desired, state, { now: NOW }).state;
      expect(after.revisions.r1?.lifecycle ?? 'none').toBe(row.final);
      expect(plan({ desired, recorded: after, now: NOW }).steps).toEqual([]);
    });
  }
});

function orderedChain<T extends { id: string; depends_on: string[] }>(steps: T[]): T[] {
  const out: T[] = [];
  const left = [...steps];
  while (left.length > 0) {
    const i = left.findIndex((s) => s.depends_on.every((d) => out.some((o) => o.id === d)));
    out.push(left.splice(i, 1)[0]);
  }
  return out;
}

describe('plan: shape', () => {
  const desired = env([
    dep(
      'web',
      [rev('web-v1'), rev('web-v2', { artifact: { command: ['node', 'app/server.js'], env: { GREETING: 'hi' } } })],
      split(['web-v1', 9000], ['web-v2', 1000]),
    ),
  ]);
  const base = env([dep('web', [rev('web-v1')], split(['web-v1', 10000]))]);
  const state = recorded(base, { lifecycles: { 'web-v1': 'ready' }, splits: { web: split(['web-v1', 10000]) } });

  it('matches the docs/design.md#plan-json example for a new 90/10 canary', () => {
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p).toEqual({
      format_version: 'bp.plan/v1',
      environment_id: 'demo',
      prior: { lineage: state.lineage, serial: 3 },
      changes: true,
      steps: [
        {
          id: 'stage:web/web-v2',
          verb: 'stage',
          deployment_id: 'web',
          revision_id: 'web-v2',
          depends_on: [],
          reason: 'new revision',
          from: 'inactive',
          to: 'staged',
          deploys: {
            command: ['node', 'app/server.js'],
            env: { GREETING: 'hi' },
            drain_seconds: 5,
            ttl: null,
            health: { http_path: '/healthz', timeout_seconds: 30 },
            resources: { cpu: 0.25, gpu: 0, memory_mb: 128, replicas: 1 },
          },
        },
        {
          id: 'warm:web/web-v2',
          verb: 'warm',
          deployment_id: 'web',
          revision_id: 'web-v2',
          depends_on: ['stage:web/web-v2'],
          reason: 'new revision',
          from: 'staged',
          to: 'ready',
        },
        {
          id: 'split:web',
          verb: 'apply_traffic_split',
          deployment_id: 'web',
          revision_id: null,
          depends_on: ['warm:web/web-v2'],
          reason: 'gaining traffic',
          split: { before: split(['web-v1', 10000]), after: split(['web-v1', 9000], ['web-v2', 1000]) },
        },
      ],
      summary: { stage: 1, warm: 1, update: 0, apply_traffic_split: 1, drain: 0, archive: 0 },
      drift: [],
      expired: [],
      targets: [],
      destroy: false,
      rollouts: [],
    });
  });

  it('is deterministic and leaves its input untouched', () => {
    const input = { desired, recorded: state, now: NOW };
    const frozen = structuredClone(input);
    const a = plan(input);
    const b = plan(structuredClone(input));
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(input).toEqual(frozen);
  });

  it('gives an empty plan when nothing changed', () => {
    const p = plan({ desired: base, recorded: state, now: NOW });
    expect(p.changes).toBe(false);
    expect(p.steps).toEqual([]);
    expect(p.summary).toEqual({ stage: 0, warm: 0, update: 0, apply_traffic_split: 0, drain: 0, archive: 0 });
  });

  it('reports prior {lineage: null, serial: 0} with nothing recorded, and plans everything', () => {
    const p = plan({ desired, recorded: null, now: NOW });
    expect(p.prior).toEqual({ lineage: null, serial: 0 });
    expect(p.steps.map((s) => s.id)).toEqual([
      'stage:web/web-v1',
      'warm:web/web-v1',
      'stage:web/web-v2',
      'warm:web/web-v2',
      'split:web',
    ]);
    expect(p.steps.find((s) => s.id === 'split:web')).toMatchObject({
      reason: 'initial traffic split',
      depends_on: ['warm:web/web-v1', 'warm:web/web-v2'],
      split: { before: [], after: split(['web-v1', 9000], ['web-v2', 1000]) },
    });
  });

  it('says which interrupted step it resumes', () => {
    const s = recorded(desired, {
      lifecycles: { 'web-v1': 'ready', 'web-v2': 'warming' },
      splits: { web: split(['web-v1', 10000]) },
      pending: ['warm:web/web-v2'],
    });
    const p = plan({ desired, recorded: s, now: NOW });
    expect(p.steps.map((x) => [x.id, x.reason])).toEqual([
      ['warm:web/web-v2', 'resume interrupted warm'],
      ['split:web', 'gaining traffic'],
    ]);
  });

  it('re-enforces a split whose apply was interrupted, even when it looks unchanged', () => {
    const s = recorded(base, {
      lifecycles: { 'web-v1': 'ready' },
      splits: { web: split(['web-v1', 10000]) },
      pending: ['split:web'],
    });
    const p = plan({ desired: base, recorded: s, now: NOW });
    expect(p.steps).toEqual([
      expect.objectContaining({ id: 'split:web', depends_on: [], reason: 'resume interrupted traffic split' }),
    ]);
    const after = simulate(p, base, s, { now: NOW }).state;
    expect(after.pending).toEqual({});
    expect(plan({ desired: base, recorded: after, now: NOW }).steps).toEqual([]);
  });

  it('reports a recorded state of another environment', () => {
    const other = { ...state, environment_id: 'prod' };
    expect(() => plan({ desired: base, recorded: other, now: NOW })).toThrow(
      /belongs to environment "prod", not "demo"/,
    );
  });

  it('throws a PlanError with code PlanError', () => {
    const s = recorded(base, { lifecycles: { 'web-v1': 'archived' } });
    try {
      plan({ desired: base, recorded: s, now: NOW });
      expect.unreachable();
    } catch (e) {
      expect(PlanError.is(e)).toBe(true);
      expect((e as PlanError).code).toBe('PlanError');
    }
  });
});
