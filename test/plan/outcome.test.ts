import { describe, it, expect } from 'vitest';
import { applyMutation, emptyState, type RecordedState } from '../../src/model/state.js';
import type { PlanStep } from '../../src/model/plan.js';
import { mutationsOnFailure, mutationsOnStart, mutationsOnSuccess, type OutcomeContext } from '../../src/plan/index.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';

const LATER = new Date('2025-03-01T12:05:00.000Z');
const desired = env([
  dep(
    'web',
    [rev('v1', { ttl: '7d', drain_seconds: 9, artifact: { command: ['app'], env: { TOKEN: '${env:TOKEN}' } } })],
    split(['v1', 10000]),
  ),
]);
const step = (verb: PlanStep['verb'], from?: PlanStep['from'], to?: PlanStep['to']): PlanStep => ({
  id: verb === 'apply_traffic_split' ? 'split:web' : `${verb}:web/v1`,
  verb,
  deployment_id: 'web',
  revision_id: verb === 'apply_traffic_split' ? null : 'v1',
  depends_on: [],
  reason: 'test',
  ...(from ? { from, to } : {}),
  ...(verb === 'apply_traffic_split' ? { split: { before: [], after: split(['v1', 10000]) } } : {}),
});
const ctx = (state: RecordedState, now = NOW): OutcomeContext => ({ desired, state, now, lockId: 'L1' });
const apply = (state: RecordedState, ms: ReturnType<typeof mutationsOnStart>) => {
  for (const m of ms) applyMutation(state, m);
  return state;
};

describe('outcome mutations', () => {
  it('first touch records the deployer, the deployment, the intent and a bare revision', () => {
    const state = emptyState('demo', 'lin', NOW);
    const ms = mutationsOnStart(step('stage', 'inactive', 'staged'), ctx(state));
    expect(ms).toEqual([
      { kind: 'deployer', name: 'local', instance: { type: 'local-process', config: {} } },
      {
        kind: 'deployment',
        deployment: {
          deployment_id: 'web',
          deployer: 'local',
          listen: '127.0.0.1:8080',
          metrics_listen: null,
          split: [],
          rollout_strategy: null,
        },
      },
      { kind: 'pending', op: { step_id: 'stage:web/v1', started_at: NOW.toISOString(), lock_id: 'L1' } },
      {
        kind: 'revision',
        revision: {
          revision_id: 'v1',
          deployment_id: 'web',
          lifecycle: 'inactive',
          spec: null,
          drain_seconds: 9,
          ttl: '7d',
          staged_at: null,
          updated_at: NOW.toISOString(),
          outputs: {},
          endpoint: null,
          last_error: null,
        },
      },
    ]);
    // A second start (retry) does not re-record what is already known.
    apply(state, ms);
    expect(mutationsOnStart(step('stage', 'inactive', 'staged'), ctx(state)).map((m) => m.kind)).toEqual(['pending']);
  });

  it('walks a revision through stage, warm, split, drain and archive', () => {
    const state = emptyState('demo', 'lin', NOW);
    const run = (s: PlanStep, result = {}, now = NOW) => {
      apply(state, mutationsOnStart(s, ctx(state, now)));
      apply(state, mutationsOnSuccess(s, ctx(state, now), result));
    };
    run(step('stage', 'inactive', 'staged'), { outputs: { image_digest: 'sha256:abc' } });
    expect(state.revisions.v1).toMatchObject({
      lifecycle: 'staged',
      staged_at: NOW.toISOString(),
      outputs: { image_digest: 'sha256:abc' },
      // Recorded unresolved: the reference, never the value.
      spec: { artifact: { command: ['app'], env: { TOKEN: '${env:TOKEN}' } } },
    });
    expect(state.pending).toEqual({});

    apply(state, mutationsOnStart(step('warm', 'staged', 'ready'), ctx(state)));
    expect(state.revisions.v1.lifecycle).toBe('warming');
    expect(Object.keys(state.pending)).toEqual(['warm:web/v1']);
    apply(
      state,
      mutationsOnSuccess(step('warm', 'staged', 'ready'), ctx(state, LATER), {
        endpoint: 'http://127.0.0.1:4000',
        outputs: { pid: 42 },
      }),
    );
    expect(state.revisions.v1).toMatchObject({
      lifecycle: 'ready',
      endpoint: 'http://127.0.0.1:4000',
      outputs: { image_digest: 'sha256:abc', pid: 42 },
      staged_at: NOW.toISOString(),
      updated_at: LATER.toISOString(),
    });

    run(step('apply_traffic_split'), { applied_entries: split(['v1', 10000]) });
    expect(state.deployments.web.split).toEqual(split(['v1', 10000]));

    // A teardown drain of a revision still in the enforced split clears that split.
    apply(state, mutationsOnStart(step('drain', 'ready', 'inactive'), ctx(state)));
    expect(state.revisions.v1.lifecycle).toBe('draining');
    apply(state, mutationsOnSuccess(step('drain', 'ready', 'inactive'), ctx(state), {}));
    expect(state.revisions.v1.lifecycle).toBe('inactive');
    expect(state.deployments.web.split).toEqual([]);

    run(step('archive', 'inactive', 'archived'));
    expect(state.revisions.v1).toMatchObject({ lifecycle: 'archived', endpoint: null });
    expect(state.pending).toEqual({});
  });

  it('keeps the first staged_at when a failed revision is staged again', () => {
    const state = recorded(desired, { lifecycles: { v1: 'failed' }, stagedAt: '2025-02-01T00:00:00.000Z' });
    apply(state, mutationsOnSuccess(step('stage', 'failed', 'staged'), ctx(state), {}));
    expect(state.revisions.v1.staged_at).toBe('2025-02-01T00:00:00.000Z');
    expect(state.revisions.v1.lifecycle).toBe('staged');
  });

  it('records the planned split when the deployer reports no entries, and updates listen', () => {
    const state = recorded(desired, { lifecycles: { v1: 'ready' } });
    state.deployments.web.listen = '127.0.0.1:1';
    const ms = mutationsOnSuccess(step('apply_traffic_split'), ctx(state), {});
    apply(state, ms);
    expect(state.deployments.web).toEqual({
      deployment_id: 'web',
      deployer: 'local',
      listen: '127.0.0.1:8080',
      metrics_listen: null,
      split: split(['v1', 10000]),
      rollout_strategy: null,
    });
  });

  it('marks a failed stage or warm failed, keeps lifecycle on a failed drain, records only done for a split', () => {
    const state = recorded(desired, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });
    apply(state, mutationsOnStart(step('warm', 'staged', 'ready'), ctx(state)));
    apply(
      state,
      mutationsOnFailure(step('warm', 'staged', 'ready'), ctx(state), { message: 'health check timed out' }),
    );
    expect(state.revisions.v1).toMatchObject({ lifecycle: 'failed', last_error: 'health check timed out' });

    const drainer = recorded(desired, { lifecycles: { v1: 'ready' } });
    apply(drainer, mutationsOnStart(step('drain', 'ready', 'inactive'), ctx(drainer)));
    apply(drainer, mutationsOnFailure(step('drain', 'ready', 'inactive'), ctx(drainer, LATER), { message: 'timeout' }));
    expect(drainer.revisions.v1).toMatchObject({
      lifecycle: 'draining',
      last_error: 'timeout',
      updated_at: LATER.toISOString(),
    });
    expect(drainer.pending).toEqual({});

    const splitter = recorded(desired, { lifecycles: { v1: 'ready' } });
    expect(mutationsOnFailure(step('apply_traffic_split'), ctx(splitter), { message: 'x' })).toEqual([
      { kind: 'pending_done', step_id: 'split:web' },
    ]);
  });

  it('refreshes drain_seconds and ttl from the file on every outcome', () => {
    const state = recorded(desired, {
      lifecycles: { v1: 'ready' },
      revisions: { v1: { drain_seconds: 1, ttl: null } },
    });
    apply(state, mutationsOnFailure(step('archive', 'ready', 'archived'), ctx(state), { message: 'x' }));
    expect(state.revisions.v1).toMatchObject({ drain_seconds: 9, ttl: '7d', lifecycle: 'ready' });
  });

  it('settles intents an interrupted apply left for the same revision', () => {
    const state = recorded(desired, { lifecycles: { v1: 'inactive' }, pending: ['stage:web/v1', 'warm:web/other'] });
    const ms = mutationsOnSuccess(step('archive', 'inactive', 'archived'), ctx(state), {});
    expect(ms.filter((m) => m.kind === 'pending_done')).toEqual([
      { kind: 'pending_done', step_id: 'archive:web/v1' },
      { kind: 'pending_done', step_id: 'stage:web/v1' },
    ]);
  });

  it('never aliases objects of the desired environment or of state into mutations', () => {
    const state = emptyState('demo', 'lin', NOW);
    apply(state, mutationsOnStart(step('stage', 'inactive', 'staged'), ctx(state)));
    apply(state, mutationsOnSuccess(step('stage', 'inactive', 'staged'), ctx(state), {}));
    state.revisions.v1.spec!.artifact.env.TOKEN = 'mutated';
    state.deployers.local.config.x = 1;
    expect(desired.deployments[0].revisions[0].artifact.env.TOKEN).toBe('${env:TOKEN}');
    expect(desired.deployers.local.config).toEqual({});
  });
});
