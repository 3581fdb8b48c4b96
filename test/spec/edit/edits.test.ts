/** Edits keep every other byte: comments, order, quoting, flow/block layout. */
import { diffLines } from 'diff';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../../src/spec/index.js';
import {
  addRevisionText,
  parseWeights,
  retireRevisionText,
  scaleSplit,
  setTrafficText,
} from '../../../src/spec/edit/edits.js';

const COMMENTED = `# Production web: keep these comments!
schema: bp.environment/v1
environment_id: demo   # the id
deployers:
  local: { type: local-process }   # inline
deployments:
  # the web tier
  - deployment_id: web
    deployer: local
    revisions:
      # first one
      - revision_id: web-v1
        artifact:
          command: [node, server.js]   # the server
          env: { GREETING: 'hello' }
        health: { http_path: /healthz }
      - revision_id: "web-v2"   # second
        artifact: { command: [node, server.js, --v2] }
    # traffic comment
    traffic:
      - { revision_id: web-v1, weight_bps: 9000 }   # stable
      - { revision_id: web-v2, weight_bps: 1000 }
  # the api tier
  - deployment_id: api
    deployer: local
    revisions:
    - revision_id: api-v1
      artifact:
        command: [node, api.js]
    traffic:
    - revision_id: api-v1
      weight_bps: 10000
# end
`;

/** Lines removed and added by an edit. */
function changes(before: string, after: string): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    if (part.removed) removed.push(...lines);
    if (part.added) added.push(...lines);
  }
  return { removed, added };
}

/** Every comment line of the original is still there byte for byte, in order. */
function expectCommentsKept(before: string, after: string, except: string[] = []) {
  const comments = (t: string) => t.split('\n').filter((l) => l.includes('#') && !except.includes(l));
  expect(comments(after).filter((l) => comments(before).includes(l))).toEqual(comments(before));
}

describe('edits of a commented env file', () => {
  it('revision add appends a copy of the last revision, changing nothing else', () => {
    const after = addRevisionText(COMMENTED, 'env.yaml', {
      deployment: 'web',
      revision: 'web-v3',
      image: 'ghcr.io/acme/web:abc',
      env: { FOO: 'bar' },
    });
    expect(changes(COMMENTED, after)).toEqual({
      removed: [],
      added: [
        '      - revision_id: web-v3',
        '        artifact:',
        '          image: ghcr.io/acme/web:abc',
        '          env:',
        '            FOO: bar',
      ],
    });
    expectCommentsKept(COMMENTED, after);
    const env = parseEnvironment(after, 'env.yaml').env;
    expect(env.deployments[0].revisions[2]).toMatchObject({
      revision_id: 'web-v3',
      artifact: { image: 'ghcr.io/acme/web:abc', env: { FOO: 'bar' } },
    });
  });

  it('revision add --from copies that revision (health too) and --weight shares traffic in proportion', () => {
    const after = addRevisionText(COMMENTED, 'env.yaml', {
      deployment: 'web',
      revision: 'web-v3',
      from: 'web-v1',
      command: ['node', 'v3.js'],
      weight: 2000,
    });
    const env = parseEnvironment(after, 'env.yaml').env;
    const v3 = env.deployments[0].revisions[2];
    expect(v3.artifact).toMatchObject({ command: ['node', 'v3.js'], env: { GREETING: 'hello' } });
    expect(v3.health.http_path).toBe('/healthz');
    expect(env.deployments[0].traffic).toEqual([
      { revision_id: 'web-v1', weight_bps: 7200 },
      { revision_id: 'web-v2', weight_bps: 800 },
      { revision_id: 'web-v3', weight_bps: 2000 },
    ]);
    // The comment on the first traffic entry goes with the replaced list; all the others stay.
    expectCommentsKept(COMMENTED, after, ['      - { revision_id: web-v1, weight_bps: 9000 }   # stable']);
  });

  it('traffic set replaces only the traffic lines, in the layout they had (flow items, block items)', () => {
    const web = setTrafficText(COMMENTED, 'env.yaml', 'web', parseWeights(['web-v2=10000']));
    expect(changes(COMMENTED, web)).toEqual({
      removed: [
        '      - { revision_id: web-v1, weight_bps: 9000 }   # stable',
        '      - { revision_id: web-v2, weight_bps: 1000 }',
      ],
      added: ['      - { revision_id: web-v2, weight_bps: 10000 }'],
    });
    const withV2 = addRevisionText(COMMENTED, 'env.yaml', { deployment: 'api', revision: 'api-v2', image: 'x/api:2' });
    const api = setTrafficText(withV2, 'env.yaml', 'api', parseWeights(['api-v1=5000', 'api-v2=5000']));
    expect(changes(withV2, api)).toEqual({
      removed: ['      weight_bps: 10000'],
      added: ['      weight_bps: 5000', '    - revision_id: api-v2', '      weight_bps: 5000'],
    });
    expect(parseEnvironment(api, 'env.yaml').env.deployments[1].revisions.map((r) => r.revision_id)).toEqual([
      'api-v1',
      'api-v2',
    ]);
  });

  it('revision retire: state inactive added after its last key, its share to the others', () => {
    const after = retireRevisionText(COMMENTED, 'env.yaml', 'web', 'web-v2');
    expect(changes(COMMENTED, after)).toEqual({
      removed: [
        '      - { revision_id: web-v1, weight_bps: 9000 }   # stable',
        '      - { revision_id: web-v2, weight_bps: 1000 }',
      ],
      added: ['        state: inactive', '      - { revision_id: web-v1, weight_bps: 10000 }'],
    });
    const env = parseEnvironment(after, 'env.yaml').env;
    expect(env.deployments[0].revisions[1].state).toBe('inactive');
    expect(() => retireRevisionText(after, 'env.yaml', 'web', 'web-v1')).toThrow(
      /carries all of deployment "web"'s traffic/,
    );
  });

  it('refuses what cannot be done, naming it', () => {
    expect(() => addRevisionText(COMMENTED, 'env.yaml', { deployment: 'nope', revision: 'x' })).toThrow(
      'env.yaml has no deployment "nope" (deployments: web, api)',
    );
    expect(() => addRevisionText(COMMENTED, 'env.yaml', { deployment: 'web', revision: 'web-v1' })).toThrow(
      /already has a revision "web-v1"/,
    );
    expect(() =>
      addRevisionText(COMMENTED, 'env.yaml', { deployment: 'web', revision: 'web-v3', from: 'web-v9' }),
    ).toThrow(/no revision "web-v9"/);
    expect(() => parseWeights(['a=9000', 'b=999'])).toThrow(
      'weights sum to 9999, not 10000 (basis points: 10000 is 100%)',
    );
    expect(() => parseWeights(['a=10001'])).toThrow(/REVISION=BPS/);
    expect(() => parseWeights(['a=5000', 'a=5000'])).toThrow(/given twice/);
  });

  it('scaleSplit always sums to the total and keeps order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10000 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 10000 }),
        (ws, total) => {
          const entries = ws.map((w, i) => ({ revision_id: `r${i}`, weight_bps: w }));
          const out = scaleSplit(entries, total);
          expect(out.reduce((n, e) => n + e.weight_bps, 0)).toBe(total);
          const ids = out.map((e) => e.revision_id);
          expect(ids).toEqual(entries.map((e) => e.revision_id).filter((id) => ids.includes(id)));
        },
      ),
    );
  });
});
