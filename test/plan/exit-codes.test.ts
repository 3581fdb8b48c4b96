import { describe, expect, it } from 'vitest';
import type { RolloutProgress, RolloutStatus } from '../../src/model/state.js';
import { isWaiting } from '../../src/plan/rollout.js';
import type { Plan, PlanStep, RolloutNotice } from '../../src/model/plan.js';
import {
  applyExitCode,
  EXIT_CHANGES,
  EXIT_DIVERGED,
  EXIT_ROLLOUT_FAILED,
  EXIT_WAITING,
  planExitCode,
  rolloutStatusExitCode,
} from '../../src/plan/exit-codes.js';

describe('rollout status --exit-status', () => {
  const table: [RolloutStatus[], number][] = [
    [[], 0],
    [['progressing'], 0],
    [['paused'], 0],
    [['completed'], 0],
    [['completed', 'paused', 'progressing'], 0],
    [['rolled_back'], EXIT_ROLLOUT_FAILED],
    [['aborted'], EXIT_ROLLOUT_FAILED],
    [['halted'], EXIT_ROLLOUT_FAILED],
    [['completed', 'halted'], EXIT_ROLLOUT_FAILED],
  ];
  it.each(table)('%j -> %i', (statuses, code) => {
    expect(rolloutStatusExitCode(statuses)).toBe(code);
  });
  it('is neither 0, 1 (error), 2 (plan changes) nor 130 (interrupted)', () => {
    expect([0, 1, 2, 130]).not.toContain(EXIT_ROLLOUT_FAILED);
  });
});

describe('plan --detailed-exitcode', () => {
  const step = (deployment: string, verb: PlanStep['verb'] = 'apply_traffic_split'): PlanStep => ({
    id: `${verb}:${deployment}`,
    verb,
    deployment_id: deployment,
    revision_id: null,
    depends_on: [],
    reason: 'test',
  });
  const notice = (deployment: string, o: Partial<RolloutNotice>): RolloutNotice => ({
    deployment_id: deployment,
    canary: 'v2',
    status: 'paused',
    step: 1,
    steps: 3,
    weight_bps: 1000,
    diverged: false,
    message: 'm',
    ...o,
  });
  const plan = (steps: PlanStep[], rollouts: RolloutNotice[]): Plan =>
    ({ steps, rollouts, changes: steps.length > 0 }) as unknown as Plan;
  const table: [string, Plan, number][] = [
    ['nothing to do', plan([], []), 0],
    ['a step', plan([step('web')], []), EXIT_CHANGES],
    ['only a waiting rollout', plan([step('web')], [notice('web', { waiting: true })]), EXIT_WAITING],
    ['a waiting rollout, no step', plan([], [notice('web', { waiting: true })]), EXIT_WAITING],
    [
      'a waiting rollout and work elsewhere',
      plan([step('web'), step('api')], [notice('web', { waiting: true })]),
      EXIT_CHANGES,
    ],
    ['a rollout going on (not waiting)', plan([step('web')], [notice('web', { status: 'progressing' })]), EXIT_CHANGES],
    ['diverged', plan([], [notice('web', { status: 'rolled_back', diverged: true })]), EXIT_DIVERGED],
    ['diverged and changes', plan([step('api')], [notice('web', { diverged: true })]), EXIT_CHANGES],
    [
      'diverged and waiting',
      plan([], [notice('web', { diverged: true }), notice('api', { waiting: true })]),
      EXIT_WAITING,
    ],
    ['a plan written before `waiting` existed', plan([step('web')], [notice('web', {})]), EXIT_CHANGES],
  ];
  it.each(table)('%s', (_name, p, code) => {
    expect(planExitCode(p)).toBe(code);
  });
  it('every code is distinct from 0, 1 (error), 127 and 130', () => {
    const codes = [EXIT_CHANGES, EXIT_ROLLOUT_FAILED, EXIT_WAITING, EXIT_DIVERGED];
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect([0, 1, 127, 130]).not.toContain(c);
  });
});

describe('apply, destroy, rollout promote/abort, rollback', () => {
  const r = (o: Partial<{ failed: number; skipped: number; held: number; interrupted: boolean }>) => ({
    failed: 0,
    skipped: 0,
    held: 0,
    interrupted: false,
    ...o,
  });
  const table: [string, ReturnType<typeof r> | null, boolean, number][] = [
    ['nothing to do', null, false, 0],
    ['declined at the prompt', null, true, 1],
    ['converged', r({}), false, 0],
    ['held at a pause', r({ held: 1 }), false, EXIT_WAITING],
    ['a failed step wins over a hold', r({ held: 1, failed: 1 }), false, 1],
    ['skipped after a failure', r({ skipped: 2 }), false, 1],
    ['interrupted', r({ interrupted: true, failed: 1 }), false, 130],
  ];
  it.each(table)('%s', (_name, result, cancelled, code) => {
    expect(applyExitCode(result, cancelled)).toBe(code);
  });
});

describe('isWaiting: what makes a plan exit 4', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const p = (o: Partial<RolloutProgress>): RolloutProgress => ({
    canary: 'v2',
    stable: [],
    target: [],
    steps: [{ pause: {} }],
    on_failure: 'rollback',
    step: 0,
    step_started_at: now.toISOString(),
    pause_until: null,
    measurements: [],
    promoted: null,
    status: 'paused',
    message: '',
    started_at: now.toISOString(),
    updated_at: now.toISOString(),
    ...o,
  });
  const table: [string, RolloutProgress, boolean][] = [
    ['paused until promoted', p({}), true],
    ['a timed pause not over', p({ pause_until: '2026-01-01T00:15:00Z' }), true],
    ['a timed pause over: apply goes on', p({ pause_until: '2026-01-01T00:05:00Z' }), false],
    ['promoted: apply goes on', p({ promoted: 'step' }), false],
    ['halted analysis', p({ status: 'halted' }), true],
    ['halted, promoted', p({ status: 'halted', promoted: 'step' }), false],
    ['progressing', p({ status: 'progressing' }), false],
    ['completed', p({ status: 'completed' }), false],
  ];
  it.each(table)('%s', (_name, progress, waiting) => {
    expect(isWaiting(progress, now)).toBe(waiting);
  });
});
