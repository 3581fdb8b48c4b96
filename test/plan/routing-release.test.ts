/** The one rule for releasing a deployment's routing (docs/design.md#traffic-rules), table-tested. */
import { describe, expect, it } from 'vitest';
import { RoutingReleases, type ReleaseRevision } from '../../src/plan/routing-release.js';
import type { LifecycleState } from '../../src/model/state.js';
import type { DesiredState } from '../../src/model/environment.js';

const rev = (revision_id: string, lifecycle: LifecycleState, state: DesiredState = 'ready'): ReleaseRevision => ({
  revision_id,
  lifecycle,
  state,
});

describe('RoutingReleases.beforeArchive', () => {
  const cases: Array<[string, ReleaseRevision[], string, boolean]> = [
    ['the only revision', [rev('a1', 'ready', 'archived')], 'a1', true],
    ['another revision still serves', [rev('a1', 'inactive', 'archived'), rev('a2', 'ready')], 'a1', false],
    [
      'the others are archived already',
      [rev('a1', 'ready', 'archived'), rev('a0', 'archived', 'archived')],
      'a1',
      true,
    ],
    ['another is staged and wanted', [rev('a1', 'inactive', 'archived'), rev('a2', 'staged')], 'a1', false],
    ['another is wanted but not yet brought up', [rev('a1', 'ready', 'archived'), rev('a2', 'inactive')], 'a1', false],
    [
      'another is wanted archived and never brought up',
      [rev('a1', 'ready', 'archived'), rev('a2', 'inactive', 'archived')],
      'a1',
      true,
    ],
    [
      'another is failed (its archive will come)',
      [rev('a1', 'ready', 'archived'), rev('a2', 'failed', 'archived')],
      'a1',
      false,
    ],
  ];
  it.each(cases)('%s', (_name, revisions, target, expected) => {
    expect(new RoutingReleases().beforeArchive(revisions, target)).toBe(expected);
  });

  it('of two archives that run at once, the second to start releases (each counts the other)', () => {
    const releases = new RoutingReleases();
    const both = [rev('a1', 'staged', 'archived'), rev('a2', 'staged', 'archived')];
    expect(releases.beforeArchive(both, 'a1')).toBe(false);
    expect(releases.beforeArchive(both, 'a2')).toBe(true);
    // A retry of the first one, now the other is archiving too, releases as well (idempotent).
    expect(releases.beforeArchive(both, 'a1')).toBe(true);
  });

  it('a revision staged again after its archive counts as live again', () => {
    const releases = new RoutingReleases();
    const both = [rev('a1', 'staged', 'archived'), rev('a2', 'staged')];
    expect(releases.beforeArchive(both, 'a2')).toBe(false);
    releases.revived('a2');
    expect(releases.beforeArchive(both, 'a1')).toBe(false);
  });
});
