/**
 * The default for a revision without `state:` (docs/design.md#lifecycle): new revisions are made
 * ready; one at 0% that was drained or archived keeps its recorded lifecycle, so scripts that
 * append revisions never re-stage or re-warm the old ones.
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/index.js';
import { parseEnvironment } from '../../src/spec/index.js';
import type { LifecycleState } from '../../src/model/state.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';

const defaulted = (id: string) => rev(id, { state_defaulted: true });

function planFor(v1: ReturnType<typeof rev>, lifecycle: LifecycleState, traffic = split(['v1', 0], ['v2', 10000])) {
  const desired = env([dep('web', [v1, rev('v2')], traffic)]);
  const state = recorded(desired, {
    lifecycles: { v1: lifecycle, v2: 'ready' },
    splits: { web: split(['v1', 0], ['v2', 10000]) },
  });
  return plan({ desired, recorded: state, now: NOW });
}

describe('plan: a revision at 0% without state:', () => {
  it.each(['inactive', 'archived'] as const)('recorded %s: not staged or warmed again, no error', (lifecycle) => {
    const p = planFor(defaulted('v1'), lifecycle);
    expect(p.steps.map((s) => s.id)).toEqual([]);
  });

  it('recorded draining (an interrupted drain): the drain is finished, nothing warms it', () => {
    const p = planFor(defaulted('v1'), 'draining');
    expect(p.steps.map((s) => s.id)).toEqual(['drain:web/v1']);
  });

  it('recorded ready: stays ready, no steps', () => {
    expect(planFor(defaulted('v1'), 'ready').steps).toEqual([]);
  });

  it('an explicit state: ready brings a drained revision back', () => {
    const p = planFor(rev('v1', { state: 'ready' }), 'inactive');
    expect(p.steps.map((s) => s.id)).toEqual(['stage:web/v1', 'warm:web/v1']);
  });

  it('given traffic, a drained revision without state: is made ready again to carry it', () => {
    const p = planFor(defaulted('v1'), 'inactive', split(['v1', 1000], ['v2', 9000]));
    expect(p.steps.map((s) => s.id)).toEqual(['stage:web/v1', 'warm:web/v1', 'split:web']);
  });

  it('a new revision without state: is staged and warmed (the default is ready)', () => {
    const desired = env([dep('web', [rev('v2'), defaulted('v3')], split(['v2', 10000]))]);
    const state = recorded(desired, { lifecycles: { v2: 'ready' }, splits: { web: split(['v2', 10000]) } });
    expect(plan({ desired, recorded: state, now: NOW }).steps.map((s) => s.id)).toEqual([
      'stage:web/v3',
      'warm:web/v3',
    ]);
  });

  it('the normalizer marks only revisions the file gives no state:', () => {
    const text = [
      'schema: bp.environment/v1',
      'environment_id: demo',
      'deployers:',
      '  local: { type: local-process }',
      'deployments:',
      '  - deployment_id: web',
      '    deployer: local',
      '    revisions:',
      '      - { revision_id: v1, artifact: { command: [node, s.js] } }',
      '      - { revision_id: v2, artifact: { command: [node, s.js] }, state: ready }',
      '    traffic: [{ revision_id: v2, weight_bps: 10000 }]',
      '',
    ].join('\n');
    const [v1, v2] = parseEnvironment(text, 'env.yaml').env.deployments[0]!.revisions;
    expect(v1).toMatchObject({ state: 'ready', state_defaulted: true });
    expect(v2!.state).toBe('ready');
    expect(v2).not.toHaveProperty('state_defaulted');
  });
});
