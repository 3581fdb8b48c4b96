/** Overlays: merged by ids, traffic replaced whole, every problem at the file and line it came from. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors.js';
import { parseEnvironment } from '../../src/spec/index.js';
import { mergeOverlays } from '../../src/spec/overlays.js';

const BASE = `schema: bp.environment/v1
environment_id: web-staging
vars:
  TAG: v1
deployers:
  local: { type: local-process, config: { state_dir: /tmp/a, keep: 2 } }
deployments:
  - deployment_id: web
    deployer: local
    revisions:
      - revision_id: web-v1
        artifact: { command: [node, server.js] }
        resources: { cpu: 0.5 }
    traffic:
      - { revision_id: web-v1, weight_bps: 10000 }
  - deployment_id: api
    deployer: local
    revisions:
      - revision_id: api-v1
        artifact: { command: [node, api.js] }
    traffic:
      - { revision_id: api-v1, weight_bps: 10000 }
`;

const PROD = `# prod: more cpu, a canary, another id
environment_id: web-prod
deployers:
  local: { config: { keep: 5 } }
deployments:
  - deployment_id: web
    revisions:
      - revision_id: web-v1
        resources: { cpu: 2 }
      - revision_id: web-\${var:TAG}b
        artifact: { command: [node, server.js, --v2] }
    traffic:
      - { revision_id: web-v1, weight_bps: 9000 }
      - { revision_id: web-v1b, weight_bps: 1000 }
`;

function parse(overlays: { file: string; text: string }[], vars = {}) {
  return parseEnvironment(BASE, 'base.yaml', { overlays, vars });
}

function problems(overlays: { file: string; text: string }[], base = BASE) {
  try {
    parseEnvironment(base, 'base.yaml', { overlays });
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as InvalidInputError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
  }
  throw new Error('expected a rejection');
}

describe('overlays', () => {
  it('merge deployers, deployments and revisions by id; replace traffic whole; keep the rest', () => {
    const { env } = parse([{ file: 'prod.yaml', text: PROD }]);
    expect(env.environment_id).toBe('web-prod');
    expect(env.deployers.local).toEqual({ type: 'local-process', config: { state_dir: '/tmp/a', keep: 5 } });
    const [web, api] = env.deployments;
    expect(web.deployment_id).toBe('web');
    expect(web.revisions.map((r) => r.revision_id)).toEqual(['web-v1', 'web-v1b']);
    expect(web.revisions[0].artifact.command).toEqual(['node', 'server.js']);
    expect(web.revisions[0].resources.cpu).toBe(2);
    expect(web.traffic).toEqual([
      { revision_id: 'web-v1', weight_bps: 9000 },
      { revision_id: 'web-v1b', weight_bps: 1000 },
    ]);
    expect(api.revisions.map((r) => r.revision_id)).toEqual(['api-v1']);
  });

  it('later overlays win; the inputs are not mutated', () => {
    const second = {
      file: 'hotfix.yaml',
      text: 'deployments:\n  - deployment_id: web\n    traffic:\n      - { revision_id: web-v1, weight_bps: 10000 }\n',
    };
    const { env } = parse([{ file: 'prod.yaml', text: PROD }, second]);
    expect(env.deployments[0].traffic).toEqual([{ revision_id: 'web-v1', weight_bps: 10000 }]);
    const base = { a: { b: 1 }, deployments: [{ deployment_id: 'x', revisions: [] }] };
    const copy = structuredClone(base);
    mergeOverlays(base, [{ a: { c: 2 }, deployments: [{ deployment_id: 'x', deployer: 'y' }] }]);
    expect(base).toEqual(copy);
  });

  it('a problem in an overlay value points at the overlay file and line', () => {
    const bad = PROD.replace('weight_bps: 1000 }', 'weight_bps: 2000 }');
    expect(problems([{ file: 'prod.yaml', text: bad }])).toEqual([
      expect.stringMatching(/^prod\.yaml:12:5: traffic weights of deployment "web" sum to 11000, not 10000$/),
    ]);
  });

  it('a problem in a base value not overridden still points at the base file', () => {
    const base = BASE.replace(
      'artifact: { command: [node, api.js] }',
      'artifact: { command: [node, api.js], bogus: 1 }',
    );
    const lines = problems([{ file: 'prod.yaml', text: PROD }], base);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^base\.yaml:20:46: unknown key "bogus" in artifact of revision "api-v1"$/);
  });

  it('a new revision from the overlay with an unknown key points into the overlay', () => {
    const bad = PROD.replace(
      'artifact: { command: [node, server.js, --v2] }',
      'artifact: { command: [node, server.js, --v2], imagee: x }',
    );
    const lines = problems([{ file: 'prod.yaml', text: bad }]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^prod\.yaml:11:\d+: .*imagee/);
  });

  it('an undefined variable in an overlay is reported in the overlay', () => {
    const bad = PROD.replace('${var:TAG}', '${var:NOPE}');
    const lines = problems([{ file: 'prod.yaml', text: bad }]);
    expect(lines[0]).toMatch(/^prod\.yaml:10:\d+: variable NOPE is not defined/);
  });

  it('YAML syntax errors and non-mapping overlays are reported in the overlay file', () => {
    expect(problems([{ file: 'o.yaml', text: 'deployments: [\n' }])[0]).toMatch(/^o\.yaml:\d+:\d+: YAML syntax/);
    expect(problems([{ file: 'o.yaml', text: '- a\n' }])).toEqual([
      'o.yaml:1:1: an overlay must hold a mapping (parts of an environment), got a list',
    ]);
  });
});
