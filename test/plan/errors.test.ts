import { describe, it, expect } from 'vitest';
import { PlanError } from '../../src/model/errors.js';
import type { PlanInput } from '../../src/plan/index.js';
import { plan } from '../../src/plan/index.js';
import { dep, env, NOW, recorded, rev, split } from './builders.js';

function problemsOf(input: PlanInput): string[] {
  try {
    plan(input);
  } catch (e) {
    expect(PlanError.is(e)).toBe(true);
    return (e as PlanError).problems;
  }
  throw new Error('expected a PlanError');
}

const base = env([
  dep(
    'web',
    [
      rev('v1', {
        artifact: { command: ['node', 'app/server.js'], env: { GREETING: 'hello', TOKEN: '${env:TOKEN}' } },
      }),
    ],
    split(['v1', 10000]),
  ),
]);
const state = recorded(base, { lifecycles: { v1: 'ready' }, splits: { web: split(['v1', 10000]) } });

describe('plan errors', () => {
  it('names every changed field of a ready revision with old -> new, secrets masked', () => {
    const desired = structuredClone(base);
    const r = desired.deployments[0].revisions[0];
    r.artifact.env.GREETING = 'secret-ish-new-value';
    r.artifact.env.EXTRA = 'x';
    r.resources.replicas = 3;
    r.health.http_path = '/ready';
    const problems = problemsOf({ desired, recorded: state, now: NOW });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe(
      'revision "v1" changed artifact.env.EXTRA: (none) -> "x", artifact.env.GREETING: "hello" -> "secret-ish-new-value", ' +
        'health.http_path: "/healthz" -> "/ready", resources.replicas: 1 -> 3, but it has been ready and a revision ' +
        'that served is immutable; declare a new revision id for the change',
    );
  });

  it('masks the values of secret-named variables in the message', () => {
    const desired = structuredClone(base);
    desired.deployments[0].revisions[0].artifact.env.TOKEN = 'plain-text-token';
    const problems = problemsOf({ desired, recorded: state, now: NOW });
    expect(problems[0]).not.toContain('plain-text-token');
    expect(problems[0]).toContain('artifact.env.TOKEN');
  });

  it('points at the changed line when the caller can locate paths', () => {
    const desired = structuredClone(base);
    desired.deployments[0].revisions[0].resources.replicas = 2;
    const locate = (path: Array<string | number>) => `env.yaml:${path.join('.')}`;
    expect(problemsOf({ desired, recorded: state, now: NOW, locate })[0]).toMatch(
      /^env\.yaml:deployments\.0\.revisions\.0\.resources\.replicas: revision "v1" changed resources\.replicas: 1 -> 2, but/,
    );
  });

  it('names a changed command as one field', () => {
    const desired = structuredClone(base);
    desired.deployments[0].revisions[0].artifact.command = ['node', 'other.js'];
    expect(problemsOf({ desired, recorded: state, now: NOW })[0]).toMatch(
      /changed artifact\.command: \["node", "app\/server\.js"\] -> \["node", "other\.js"\], but/,
    );
  });

  it('changes the mutable settings (drain_seconds, ttl, health timeout) of a ready revision through an update step', () => {
    const desired = structuredClone(base);
    desired.deployments[0].revisions[0].drain_seconds = 60;
    desired.deployments[0].revisions[0].ttl = '30d';
    desired.deployments[0].revisions[0].health.timeout_seconds = 90;
    const p = plan({ desired, recorded: state, now: NOW });
    expect(p.steps).toEqual([
      {
        id: 'update:web/v1',
        verb: 'update',
        deployment_id: 'web',
        revision_id: 'v1',
        depends_on: [],
        reason: 'settings changed: drain_seconds: 5 -> 60, ttl: (none) -> "30d", health.timeout_seconds: 30 -> 90',
        changes: [
          { field: 'drain_seconds', old: 5, new: 60 },
          { field: 'ttl', old: null, new: '30d' },
          { field: 'health.timeout_seconds', old: 30, new: 90 },
        ],
      },
    ]);
    expect(p.summary.update).toBe(1);
    expect(p.changes).toBe(true);
  });

  it('does not check a revision that was never staged', () => {
    const desired = structuredClone(base);
    desired.deployments[0].revisions.push(rev('v2', { resources: { cpu: 2, memory_mb: 512, replicas: 2, gpu: 0 } }));
    const s = recorded(base, {
      lifecycles: { v1: 'ready', v2: 'inactive' },
      splits: { web: split(['v1', 10000]) },
      placement: { v2: 'web' },
    });
    expect(plan({ desired, recorded: s, now: NOW }).steps.map((x) => x.id)).toEqual(['stage:web/v2', 'warm:web/v2']);
  });

  it('refuses a revision id that moved to another deployment', () => {
    const desired = env([
      dep('web', [rev('v2')], split(['v2', 10000])),
      dep('api', [rev('v1')], split(['v1', 10000]), { listen: '127.0.0.1:8081' }),
    ]);
    expect(problemsOf({ desired, recorded: state, now: NOW })).toContain(
      'revision "v1" is declared under deployment "api" but was recorded under "web"; revision ids never move between deployments, declare a new revision id',
    );
  });

  it('refuses to revive an archived revision', () => {
    const s = recorded(base, { lifecycles: { v1: 'archived' } });
    expect(problemsOf({ desired: base, recorded: s, now: NOW })).toContain(
      'revision "v1" is archived, which is final; declare a new revision id',
    );
  });

  it('refuses a deployer change while revisions are live, allows it once all are archived', () => {
    const desired = env([dep('web', [rev('v1')], split(['v1', 10000]), { deployer: 'other' })], {
      deployers: { local: { type: 'local-process', config: {} }, other: { type: 'local-process', config: {} } },
    });
    expect(problemsOf({ desired, recorded: state, now: NOW })[0]).toMatch(
      /deployment "web" changed deployer from "local" to "other" while revisions "v1" are not archived/,
    );
    const moved = env([dep('web', [rev('v2')], split(['v2', 10000]), { deployer: 'other' })], {
      deployers: desired.deployers,
    });
    const archived = recorded(base, { lifecycles: { v1: 'archived' }, splits: { web: [] } });
    expect(plan({ desired: moved, recorded: archived, now: NOW }).steps.map((s) => s.id)).toEqual([
      'stage:web/v2',
      'warm:web/v2',
      'split:web',
    ]);
  });

  it('refuses a deployer type change under the same name while revisions are live', () => {
    const desired = { ...structuredClone(base), deployers: { local: { type: 'docker', config: {} } } };
    expect(problemsOf({ desired, recorded: state, now: NOW })[0]).toMatch(
      /deployer "local" of deployment "web" changed type from "local-process" to "docker"/,
    );
  });

  it('collects every problem before throwing', () => {
    const desired = env([
      dep(
        'web',
        [rev('v1', { resources: { cpu: 1, memory_mb: 128, replicas: 1, gpu: 0 } }), rev('old')],
        split(['v1', 10000]),
      ),
      dep('api', [rev('a1', { state: 'archived' })], split(['a1', 10000]), { listen: '127.0.0.1:8081' }),
    ]);
    const s = recorded(desired, {
      lifecycles: { v1: 'ready', old: 'archived', a1: 'ready' },
      splits: { web: split(['v1', 10000]), api: split(['a1', 10000]) },
      revisions: {
        v1: { spec: { artifact: rev('v1').artifact, resources: rev('v1').resources, health: rev('v1').health } },
      },
    });
    const problems = problemsOf({ desired, recorded: s, now: NOW });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/"v1" changed resources\.cpu/);
    expect(problems[1]).toMatch(/"old" is archived, which is final/);
    expect(problems[2]).toMatch(/"a1" carries 10000 bps of the traffic of "api"/);
  });

  it('skips consistency checks under destroy so a broken file can still be torn down', () => {
    const desired = structuredClone(base);
    desired.deployments[0].revisions[0].artifact.env.GREETING = 'changed';
    expect(plan({ desired, recorded: state, now: NOW, destroy: true }).steps.map((s) => s.id)).toEqual([
      'drain:web/v1',
      'archive:web/v1',
    ]);
  });
});

describe('plan --target', () => {
  const desired = env([
    dep('web', [rev('w1')], split(['w1', 10000])),
    dep('api', [rev('a1')], split(['a1', 10000]), { listen: '127.0.0.1:8081' }),
  ]);

  it('plans only the targeted deployments and records the targets', () => {
    const p = plan({ desired, recorded: null, now: NOW, targets: ['api'] });
    expect(p.targets).toEqual(['api']);
    expect(p.steps.map((s) => s.id)).toEqual(['stage:api/a1', 'warm:api/a1', 'split:api']);
    expect(p.summary).toEqual({ stage: 1, warm: 1, update: 0, apply_traffic_split: 1, drain: 0, archive: 0 });
  });

  it('dedupes and sorts targets', () => {
    expect(plan({ desired, recorded: null, now: NOW, targets: ['web', 'api', 'web'] }).targets).toEqual(['api', 'web']);
  });

  it('can target a deployment only recorded state knows', () => {
    const s = recorded(desired, { lifecycles: { g1: 'staged' }, placement: { g1: 'gone' } });
    expect(plan({ desired, recorded: s, now: NOW, targets: ['gone'] }).steps.map((x) => x.id)).toEqual([
      'archive:gone/g1',
    ]);
  });

  it('does not let problems of other deployments block a targeted plan', () => {
    const s = recorded(desired, { lifecycles: { w1: 'archived' } });
    expect(() => plan({ desired, recorded: s, now: NOW })).toThrow(PlanError);
    expect(plan({ desired, recorded: s, now: NOW, targets: ['api'] }).steps).toHaveLength(3);
  });

  it('rejects an unknown target', () => {
    expect(() => plan({ desired, recorded: null, now: NOW, targets: ['db'] })).toThrow(
      /target "db" is not a deployment of the file or of recorded state/,
    );
  });
});
