/**
 * The plan's note on newer secret versions (docs/secrets.md, "When they are resolved"): pure,
 * from the versions recorded per revision and those the stores hold now; and the stage/warm
 * outcomes that record them.
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/index.js';
import { newerSecrets } from '../../src/plan/planner.js';
import { mutationsOnSuccess } from '../../src/plan/outcome.js';
import type { PlanStep } from '../../src/model/plan.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';

const REF = '${secret:aws-sm:prod/db#password}';
const PINNED = '${secret:aws-sm:prod/db@v1#password}';
const desired = env([
  dep('web', [rev('v1', { artifact: { command: ['app'], env: { DB: REF, OLD: PINNED } } })], split(['v1', 10000])),
]);
const state = recorded(desired, {
  lifecycles: { v1: 'ready', v0: 'archived' },
  placement: { v0: 'web' },
  splits: { web: split(['v1', 10000]) },
  revisions: {
    v1: { secret_versions: { [REF]: 'v2', [PINNED]: 'v1' } },
    v0: { secret_versions: { [REF]: 'v1' } },
  },
});

describe('newer secret versions', () => {
  it.each([
    ['same version: nothing', { v1: { [REF]: 'v2' } }, []],
    ['store could not be asked: nothing', { v1: {} }, []],
    ['not asked at all (refresh off): nothing', null, []],
    [
      'newer version: one note per reference of a live revision',
      { v1: { [REF]: 'v3' }, v0: { [REF]: 'v3' } },
      [{ deployment_id: 'web', revision_id: 'v1', reference: REF, recorded_version: 'v2', current_version: 'v3' }],
    ],
  ])('%s', (_name, current, expected) => {
    expect(newerSecrets(state, current)).toEqual(expected);
  });

  it('the plan carries the note without any step (revisions are immutable)', () => {
    const p = plan({ desired, recorded: state, now: NOW, secretVersions: { v1: { [REF]: 'v3' } } });
    expect(p.changes).toBe(false);
    expect(p.secret_updates).toHaveLength(1);
    expect(plan({ desired, recorded: state, now: NOW }).secret_updates).toBeUndefined();
  });

  it('stage and warm record the versions they were given; other verbs keep them', () => {
    const base = { desired, state, now: NOW, lockId: 'l' };
    const step = (verb: PlanStep['verb']): PlanStep => ({
      id: `${verb}:web/v1`,
      verb,
      deployment_id: 'web',
      revision_id: 'v1',
      depends_on: [],
      reason: '',
    });
    const recordedBy = (verb: PlanStep['verb']) =>
      mutationsOnSuccess(step(verb), base, { secret_versions: { [REF]: 'v9' } }).find((m) => m.kind === 'revision');
    for (const verb of ['stage', 'warm'] as const)
      expect(recordedBy(verb)).toMatchObject({ revision: { secret_versions: { [REF]: 'v9' } } });
    expect(recordedBy('drain')).toMatchObject({ revision: { secret_versions: { [REF]: 'v2', [PINNED]: 'v1' } } });
  });
});
