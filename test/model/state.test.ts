import { describe, expect, it } from 'vitest';
import {
  applyMutation,
  emptyState,
  MUTATION_KINDS,
  type HistoryEntry,
  type Mutation,
  type RecordedDeployment,
  type RecordedRevision,
} from '../../src/model/state.js';

const NOW = new Date('2026-01-01T00:00:00Z');

function deployment(id: string): RecordedDeployment {
  return { deployment_id: id, deployer: 'local', listen: null, split: [] };
}

describe('applyMutation', () => {
  it('knows every mutation kind a journal may hold', () => {
    expect([...MUTATION_KINDS].sort()).toEqual(
      [
        'deployer',
        'deployment',
        'deployment_removed',
        'history',
        'pending',
        'pending_done',
        'revision',
        'rollout',
        'rollout_strategy',
        'notifications',
        'split',
      ].sort(),
    );
  });

  it('records and removes deployments, revisions, deployers and pending operations', () => {
    const state = emptyState('demo', 'lineage', NOW);
    const revision = { revision_id: 'web-v1', deployment_id: 'web' } as RecordedRevision;
    const op = { step_id: 'stage:web/web-v1', started_at: NOW.toISOString(), lock_id: 'l1' };
    const mutations: Mutation[] = [
      { kind: 'deployer', name: 'local', instance: { type: 'local-process', config: {} } },
      { kind: 'deployment', deployment: deployment('web') },
      { kind: 'deployment', deployment: deployment('api') },
      { kind: 'revision', revision },
      { kind: 'pending', op },
    ];
    for (const m of mutations) expect(applyMutation(state, m)).toBe(state);
    expect(state.deployers.local?.type).toBe('local-process');
    expect(Object.keys(state.deployments)).toEqual(['web', 'api']);
    expect(state.revisions['web-v1']).toBe(revision);
    expect(state.pending[op.step_id]).toBe(op);

    applyMutation(state, { kind: 'deployment_removed', deployment_id: 'api' });
    applyMutation(state, { kind: 'pending_done', step_id: op.step_id });
    expect(Object.keys(state.deployments)).toEqual(['web']);
    expect(state.pending).toEqual({});
  });

  it("sets a deployment's split and rollout, and ignores them for a deployment it does not hold", () => {
    const state = emptyState('demo', 'lineage', NOW);
    applyMutation(state, { kind: 'deployment', deployment: deployment('web') });
    const entries = [{ revision_id: 'web-v1', weight_bps: 10000 }];
    applyMutation(state, { kind: 'split', deployment_id: 'web', entries });
    applyMutation(state, { kind: 'rollout', deployment_id: 'web', rollout: null });
    applyMutation(state, { kind: 'split', deployment_id: 'gone', entries });
    applyMutation(state, { kind: 'rollout', deployment_id: 'gone', rollout: null });
    expect(state.deployments.web?.split).toBe(entries);
    expect(state.deployments.web?.rollout).toBeNull();
    expect(Object.keys(state.deployments)).toEqual(['web']);
  });

  it("records a deployment's rollout strategy (not for one it does not hold) and the environment's webhooks", () => {
    const state = emptyState('demo', 'lineage', NOW);
    applyMutation(state, { kind: 'deployment', deployment: deployment('web') });
    const strategy = { steps: [{ weight_bps: 1000 }], on_failure: 'rollback' as const };
    applyMutation(state, { kind: 'rollout_strategy', deployment_id: 'web', strategy });
    applyMutation(state, { kind: 'rollout_strategy', deployment_id: 'gone', strategy });
    expect(state.deployments.web?.rollout_strategy).toBe(strategy);
    expect(Object.keys(state.deployments)).toEqual(['web']);
    const hooks = [{ url: 'https://hooks.example.com', events: ['*'] }];
    applyMutation(state, { kind: 'notifications', notifications: hooks });
    expect(state.notifications).toBe(hooks);
  });

  it('keeps the newest history entries within the limit (at least one)', () => {
    const state = emptyState('demo', 'lineage', NOW);
    const entry = (id: number) => ({ id }) as HistoryEntry;
    for (const id of [1, 2, 3]) applyMutation(state, { kind: 'history', entry: entry(id), limit: 2 });
    expect(state.history?.map((e) => e.id)).toEqual([2, 3]);
    applyMutation(state, { kind: 'history', entry: entry(4), limit: 0 });
    expect(state.history?.map((e) => e.id)).toEqual([4]);
  });
});
