/** Small builders for recorded-state inputs shared by the state tests. */
import { randomUUID } from 'node:crypto';
import { emptyState, type Mutation, type RecordedRevision, type RecordedState } from '../../src/model/state.js';

export const T0 = new Date('2025-01-01T00:00:00.000Z');

export function freshState(environmentId: string): RecordedState {
  return emptyState(environmentId, randomUUID(), T0);
}

export function revision(revisionId: string, overrides: Partial<RecordedRevision> = {}): RecordedRevision {
  return {
    revision_id: revisionId,
    deployment_id: 'web',
    lifecycle: 'staged',
    spec: null,
    drain_seconds: 30,
    ttl: null,
    staged_at: T0.toISOString(),
    updated_at: T0.toISOString(),
    outputs: {},
    endpoint: null,
    last_error: null,
    ...overrides,
  };
}

export function pendingStart(stepId: string, lockId = 'lock'): Mutation {
  return { kind: 'pending', op: { step_id: stepId, started_at: T0.toISOString(), lock_id: lockId } };
}

/** A sequence touching every mutation kind, ending with a known shape (see expectedAfterAllKinds). */
export function allKindsOfMutation(): Mutation[] {
  return [
    { kind: 'deployer', name: 'local', instance: { type: 'local-process', config: {} } },
    {
      kind: 'deployment',
      deployment: { deployment_id: 'web', deployer: 'local', listen: '127.0.0.1:8080', split: [] },
    },
    { kind: 'deployment', deployment: { deployment_id: 'gone', deployer: 'local', listen: null, split: [] } },
    { kind: 'revision', revision: revision('web-v1') },
    { kind: 'revision', revision: revision('web-v1', { lifecycle: 'ready', endpoint: 'http://127.0.0.1:1234' }) },
    { kind: 'split', deployment_id: 'web', entries: [{ revision_id: 'web-v1', weight_bps: 10000 }] },
    { kind: 'deployment_removed', deployment_id: 'gone' },
    pendingStart('warm:web/web-v1'),
    pendingStart('stage:web/web-v2'),
    { kind: 'pending_done', step_id: 'warm:web/web-v1' },
  ];
}

export function expectedAfterAllKinds(base: RecordedState): Omit<RecordedState, 'serial' | 'updated_at'> {
  return {
    format_version: base.format_version,
    environment_id: base.environment_id,
    lineage: base.lineage,
    deployers: { local: { type: 'local-process', config: {} } },
    deployments: {
      web: {
        deployment_id: 'web',
        deployer: 'local',
        listen: '127.0.0.1:8080',
        split: [{ revision_id: 'web-v1', weight_bps: 10000 }],
      },
    },
    revisions: { 'web-v1': revision('web-v1', { lifecycle: 'ready', endpoint: 'http://127.0.0.1:1234' }) },
    pending: { 'stage:web/web-v2': { step_id: 'stage:web/web-v2', started_at: T0.toISOString(), lock_id: 'lock' } },
  };
}
