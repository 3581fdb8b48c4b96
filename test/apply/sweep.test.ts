import { describe, expect, it } from 'vitest';
import { repeatUntilStopped, sweepCandidates, ttlSweepPlan } from '../../src/apply/sweep.js';
import type { Environment } from '../../src/model/environment.js';
import { REVISION_DEFAULTS } from '../../src/model/environment.js';
import type { ExpiredRevision, Plan, PlanStep } from '../../src/model/plan.js';
import { emptyState, type RecordedRevision, type RecordedState } from '../../src/model/state.js';
import { plan as computePlan } from '../../src/plan/index.js';

const step = (id: string, extra: Partial<PlanStep> = {}): PlanStep => {
  const [verb, rest] = id.split(':');
  const [deployment, revision] = rest.split('/');
  return {
    id,
    verb: (verb === 'split' ? 'apply_traffic_split' : verb) as PlanStep['verb'],
    deployment_id: deployment,
    revision_id: revision ?? null,
    depends_on: [],
    reason: 'ttl expired',
    ...extra,
  };
};
const expired = (rev: string, carries = false, dep = 'web'): ExpiredRevision => ({
  deployment_id: dep,
  revision_id: rev,
  expired_at: '2024-01-01T00:00:00.000Z',
  carries_traffic: carries,
});
const planOf = (steps: PlanStep[], exp: ExpiredRevision[], extra: Partial<Plan> = {}): Plan => ({
  format_version: 'bp.plan/v1',
  environment_id: 'demo',
  prior: { lineage: 'l', serial: 3 },
  changes: steps.length > 0,
  steps,
  summary: { stage: 0, warm: 0, update: 0, apply_traffic_split: 0, drain: 0, archive: 0 },
  drift: [],
  expired: exp,
  targets: [],
  destroy: false,
  rollouts: [],
  ...extra,
});

describe('ttlSweepPlan', () => {
  it('keeps only the drain and archive steps of expired revisions without traffic', () => {
    const p = planOf(
      [
        step('stage:web/web-v3', { reason: 'new revision' }),
        step('warm:web/web-v3', { depends_on: ['stage:web/web-v3'], reason: 'new revision' }),
        step('split:web', { depends_on: ['warm:web/web-v3'], reason: 'gaining traffic' }),
        step('drain:web/web-v1'),
        step('archive:web/web-v1', { depends_on: ['drain:web/web-v1'] }),
        step('archive:web/web-old', { reason: 'desired archived' }),
        step('archive:api/api-v1', { reason: 'removed from file' }),
      ],
      [expired('web-v1'), expired('web-v2', true)],
    );
    const s = ttlSweepPlan(p);
    expect(s.steps.map((x) => x.id)).toEqual(['drain:web/web-v1', 'archive:web/web-v1']);
    expect(s.summary).toEqual({ stage: 0, warm: 0, update: 0, apply_traffic_split: 0, drain: 1, archive: 1 });
    expect(s.changes).toBe(true);
    expect(s.expired).toEqual(p.expired);
    expect(s.prior).toEqual(p.prior);
    expect(sweepCandidates(p)).toEqual({
      sweepable: [expired('web-v1')],
      keptWithTraffic: [expired('web-v2', true)],
      heldByDrift: [],
    });
  });

  it('drops a step whose dependency is not swept, and everything after it', () => {
    const p = planOf(
      [
        step('split:web', { reason: 'losing all traffic' }),
        step('drain:web/web-v1', { depends_on: ['split:web'] }),
        step('archive:web/web-v1', { depends_on: ['drain:web/web-v1'] }),
      ],
      [expired('web-v1')],
    );
    const s = ttlSweepPlan(p);
    expect(s.steps).toEqual([]);
    expect(s.changes).toBe(false);
  });

  it('leaves an expired revision alone when the split of its deployment drifted', () => {
    const p = planOf(
      [step('drain:web/web-v1'), step('archive:web/web-v1', { depends_on: ['drain:web/web-v1'] })],
      [expired('web-v1')],
      {
        drift: [{ deployment_id: 'web', revision_id: null, kind: 'split_changed', message: 'changed' }],
      },
    );
    expect(ttlSweepPlan(p).steps).toEqual([]);
    expect(sweepCandidates(p).heldByDrift).toEqual([expired('web-v1')]);
  });

  it('on a real plan: sweeps the expired revision with weight 0, keeps the one with traffic, adds no other step', () => {
    const rev = (id: string, ttl: string | null) => ({
      revision_id: id,
      artifact: { command: ['node', 'server.js'], env: { V: id } },
      resources: { ...REVISION_DEFAULTS.resources },
      health: { ...REVISION_DEFAULTS.health },
      drain_seconds: 0,
      ttl,
      state: 'ready' as const,
    });
    const desired: Environment = {
      schema: 'bp.environment/v1',
      environment_id: 'demo',
      deployers: { fake: { type: './fake.mjs', config: {} } },
      notifications: [],
      deployments: [
        {
          deployment_id: 'web',
          deployer: 'fake',
          listen: null,
          // v3 is new: a full apply would stage, warm and shift traffic to it; a sweep must not.
          revisions: [rev('web-v1', '1h'), rev('web-v2', '1h'), rev('web-v3', null)],
          traffic: [
            { revision_id: 'web-v1', weight_bps: 5000 },
            { revision_id: 'web-v2', weight_bps: 0 },
            { revision_id: 'web-v3', weight_bps: 5000 },
          ],
        },
      ],
    };
    const stagedAt = '2024-01-01T00:00:00.000Z';
    const recordedRev = (id: string): RecordedRevision => ({
      revision_id: id,
      deployment_id: 'web',
      lifecycle: 'ready',
      spec: {
        artifact: desired.deployments[0].revisions.find((r) => r.revision_id === id)!.artifact,
        resources: { ...REVISION_DEFAULTS.resources },
        health: { ...REVISION_DEFAULTS.health },
      },
      drain_seconds: 0,
      ttl: '1h',
      staged_at: stagedAt,
      updated_at: stagedAt,
      outputs: {},
      endpoint: null,
      last_error: null,
    });
    const recorded: RecordedState = {
      ...emptyState('demo', 'lineage-1', new Date(stagedAt)),
      serial: 1,
      deployers: { fake: { type: './fake.mjs', config: {} } },
      deployments: {
        web: {
          deployment_id: 'web',
          deployer: 'fake',
          listen: null,
          split: [
            { revision_id: 'web-v1', weight_bps: 10000 },
            { revision_id: 'web-v2', weight_bps: 0 },
          ],
        },
      },
      revisions: { 'web-v1': recordedRev('web-v1'), 'web-v2': recordedRev('web-v2') },
    };
    const full = computePlan({ desired, recorded, now: new Date('2024-01-01T02:00:00.000Z') });
    expect(full.steps.map((s) => s.verb)).toContain('stage');
    const s = ttlSweepPlan(full);
    expect(s.steps.map((x) => x.id)).toEqual(['drain:web/web-v2', 'archive:web/web-v2']);
    expect(sweepCandidates(full).keptWithTraffic.map((x) => x.revision_id)).toEqual(['web-v1']);
    // Before the TTL passes there is nothing to sweep.
    expect(ttlSweepPlan(computePlan({ desired, recorded, now: new Date('2024-01-01T00:30:00.000Z') })).changes).toBe(
      false,
    );
  });
});

describe('repeatUntilStopped', () => {
  it('runs a pass per interval, reports a failing pass and goes on, and stops at once while sleeping', async () => {
    const stop = new AbortController();
    const errors: unknown[] = [];
    let passes = 0;
    const started = Date.now();
    const loop = repeatUntilStopped({
      intervalMs: 30,
      stop: stop.signal,
      pass: async () => {
        passes++;
        if (passes === 2) throw new Error('transient');
      },
      onError: (e) => errors.push(e),
    });
    await new Promise((r) => setTimeout(r, 200));
    const before = passes;
    expect(before).toBeGreaterThanOrEqual(3);
    stop.abort();
    await loop;
    expect(Date.now() - started).toBeLessThan(400);
    expect(passes).toBe(before);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('transient');
  });

  it('lets a running pass finish when stopped during it, then ends without another pass', async () => {
    const stop = new AbortController();
    let passes = 0;
    let finished = 0;
    await repeatUntilStopped({
      intervalMs: 10,
      stop: stop.signal,
      pass: async () => {
        passes++;
        stop.abort();
        await new Promise((r) => setTimeout(r, 30));
        finished++;
      },
      onError: () => {},
    });
    expect(passes).toBe(1);
    expect(finished).toBe(1);
  });
});
