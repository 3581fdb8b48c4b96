/** The one rule for releasing a deployment's routing (docs/design.md#traffic-rules), table-tested. */
import { describe, expect, it } from 'vitest';
import {
  keepsRouting,
  RoutingReleases,
  type ReleaseDecision,
  type ReleaseRevision,
} from '../../src/plan/routing-release.js';
import { LIFECYCLE_STATES, type LifecycleState } from '../../src/model/state.js';
import type { DesiredState } from '../../src/model/environment.js';

const rev = (revision_id: string, lifecycle: LifecycleState, state: DesiredState = 'ready'): ReleaseRevision => ({
  revision_id,
  lifecycle,
  state,
});

describe('keepsRouting: which lifecycle and desired state keep a deployment routed', () => {
  const desired: DesiredState[] = ['ready', 'inactive', 'archived'];
  const table = LIFECYCLE_STATES.flatMap((lifecycle) =>
    desired.map((state) => [lifecycle, state, state === 'ready' && lifecycle !== 'archived'] as const),
  );
  it.each(table)('recorded %s, wanted %s: %s', (lifecycle, state, expected) => {
    expect(keepsRouting(rev('x', lifecycle, state))).toBe(expected);
  });
});

describe('RoutingReleases.beforeArchive', () => {
  const cases: Array<[string, ReleaseRevision[], string, ReleaseDecision]> = [
    ['the only revision', [rev('a1', 'ready', 'archived')], 'a1', 'release'],
    ['another revision still serves', [rev('a1', 'inactive', 'archived'), rev('a2', 'ready')], 'a1', 'keep'],
    [
      'the others are archived already',
      [rev('a1', 'ready', 'archived'), rev('a0', 'archived', 'archived')],
      'a1',
      'release',
    ],
    ['another is staged and wanted ready', [rev('a1', 'inactive', 'archived'), rev('a2', 'staged')], 'a1', 'keep'],
    [
      'another is wanted ready, not yet brought up',
      [rev('a1', 'ready', 'archived'), rev('a2', 'inactive')],
      'a1',
      'keep',
    ],
    [
      'another failed and is wanted ready (it will be)',
      [rev('a1', 'ready', 'archived'), rev('a2', 'failed')],
      'a1',
      'keep',
    ],
    [
      'another is staged, never warmed, and goes too',
      [rev('a1', 'ready', 'archived'), rev('a2', 'staged', 'archived')],
      'a1',
      'release',
    ],
    [
      'another is staged, never warmed, and stays inactive',
      [rev('a1', 'ready', 'archived'), rev('a2', 'staged', 'inactive')],
      'a1',
      'release',
    ],
    [
      'another is wanted archived and never brought up',
      [rev('a1', 'ready', 'archived'), rev('a2', 'inactive', 'archived')],
      'a1',
      'release',
    ],
    [
      'another failed (its archive will come)',
      [rev('a1', 'ready', 'archived'), rev('a2', 'failed', 'archived')],
      'a1',
      'release',
    ],
    [
      'another is still warming but goes too',
      [rev('a1', 'ready', 'archived'), rev('a2', 'warming', 'archived')],
      'a1',
      'release',
    ],
    [
      'another is ready but goes too (the deployment is taken down)',
      [rev('a1', 'ready', 'archived'), rev('a2', 'ready', 'archived')],
      'a1',
      'release',
    ],
  ];
  it.each(cases)('%s', (_name, revisions, target, expected) => {
    expect(new RoutingReleases().beforeArchive('a', revisions, target)).toBe(expected);
  });

  it('releases once per deployment and run: later archives await that release', () => {
    const releases = new RoutingReleases();
    const both = [rev('a1', 'ready', 'archived'), rev('a2', 'staged', 'archived')];
    expect(releases.beforeArchive('a', both, 'a1')).toBe('release');
    expect(releases.beforeArchive('a', both, 'a2')).toBe('await');
    // A retry of the first one awaits too: the routing is gone already.
    expect(releases.beforeArchive('a', both, 'a1')).toBe('await');
    // Another deployment decides on its own.
    expect(releases.beforeArchive('b', [rev('b1', 'ready', 'archived')], 'b1')).toBe('release');
  });

  it('a failed release is decided again by the next archive', () => {
    const releases = new RoutingReleases();
    const both = [rev('a1', 'ready', 'archived'), rev('a2', 'staged', 'archived')];
    expect(releases.beforeArchive('a', both, 'a1')).toBe('release');
    releases.releaseFailed('a');
    expect(releases.beforeArchive('a', both, 'a2')).toBe('release');
  });

  it('revisions being archived in this run do not keep the routing, whatever their desired state', () => {
    const releases = new RoutingReleases();
    // The bench archives revisions its environment still wants ready: the last one to start releases.
    const both = [rev('a1', 'ready'), rev('a2', 'ready')];
    expect(releases.beforeArchive('a', both, 'a1')).toBe('keep');
    expect(releases.beforeArchive('a', both, 'a2')).toBe('release');
  });

  it('a revision staged again after its archive keeps the routing again, and a later release runs again', () => {
    const releases = new RoutingReleases();
    const both = [rev('a1', 'ready'), rev('a2', 'ready')];
    expect(releases.beforeArchive('a', both, 'a1')).toBe('keep');
    releases.revived('a', 'a1');
    expect(releases.beforeArchive('a', both, 'a2')).toBe('keep');
    const alone = [rev('a1', 'ready', 'archived')];
    expect(releases.beforeArchive('a', alone, 'a1')).toBe('release');
    releases.revived('a', 'a1');
    expect(releases.beforeArchive('a', alone, 'a1')).toBe('release');
  });
});
