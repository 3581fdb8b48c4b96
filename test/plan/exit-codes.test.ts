import { describe, expect, it } from 'vitest';
import type { RolloutStatus } from '../../src/model/state.js';
import { EXIT_ROLLOUT_FAILED, rolloutStatusExitCode } from '../../src/plan/exit-codes.js';

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
