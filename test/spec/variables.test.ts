/** `${var:NAME}`: defaults, given values, every string field (ids too), errors at FILE:LINE:COL. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors.js';
import { parseEnvironment } from '../../src/spec/index.js';
import { substituteVariables } from '../../src/spec/variables.js';

const ENV = `schema: bp.environment/v1
environment_id: demo-\${var:STAGE}
vars:
  STAGE: staging
  SHA: null
  PORT: 8080
deployers:
  local: { type: local-process }
deployments:
  - deployment_id: web
    deployer: local
    listen: "127.0.0.1:\${var:PORT}"
    revisions:
      - revision_id: web-\${var:SHA}
        artifact:
          image: "ghcr.io/acme/web:\${var:SHA}"
          env: { GREETING: "hi $\${var:SHA}" }
    traffic:
      - { revision_id: "web-\${var:SHA}", weight_bps: 10000 }
`;

function problems(text: string, vars: Record<string, string> = {}) {
  try {
    parseEnvironment(text, 'env.yaml', { vars });
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as InvalidInputError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
  }
  throw new Error('expected a rejection');
}

describe('variables', () => {
  it('substitutes defaults and given values in every string field, ids included', () => {
    const { env } = parseEnvironment(ENV, 'env.yaml', { vars: { SHA: 'abc123', STAGE: 'prod' } });
    expect(env.environment_id).toBe('demo-prod');
    const web = env.deployments[0];
    expect(web.listen).toBe('127.0.0.1:8080');
    expect(web.revisions[0].revision_id).toBe('web-abc123');
    expect(web.revisions[0].artifact.image).toBe('ghcr.io/acme/web:abc123');
    expect(web.traffic).toEqual([{ revision_id: 'web-abc123', weight_bps: 10000 }]);
    // `$${` stays an escape for the reference phase: never substituted.
    expect(web.revisions[0].artifact.env.GREETING).toBe('hi $${var:SHA}');
  });

  it('an undefined variable is an error at the reference, naming the field, for each use', () => {
    expect(problems(ENV)).toEqual([
      'env.yaml:14:26: variable SHA is not defined (referenced by revision_id in revision #1 of deployment "web"): give it a default under vars:, or pass --var SHA=VALUE, --var-file or BP_VAR_SHA',
      'env.yaml:16:36: variable SHA is not defined (referenced by artifact.image in revision #1 of deployment "web"): give it a default under vars:, or pass --var SHA=VALUE, --var-file or BP_VAR_SHA',
      'env.yaml:19:29: variable SHA is not defined (referenced by revision_id in traffic entry #1 of deployment "web"): give it a default under vars:, or pass --var SHA=VALUE, --var-file or BP_VAR_SHA',
    ]);
  });

  it('a malformed ${var: is an error, never a silent literal', () => {
    const text = ENV.replace('listen: "127.0.0.1:${var:PORT}"', 'listen: "127.0.0.1:${var:9PORT}"');
    expect(problems(text, { SHA: 'a' })).toEqual([
      'env.yaml:12:24: listen in deployment "web" has a malformed variable reference: write ${var:NAME} (NAME of letters, digits and "_", not starting with a digit)',
    ]);
  });

  it('a substituted value is then validated like any other (an id that is not an id)', () => {
    const lines = problems(ENV, { SHA: 'Not An Id' });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^env\.yaml:14:\d+: .*revision_id/);
  });

  it('vars: names and values are checked by the schema', () => {
    const lines = problems(ENV.replace('  PORT: 8080', '  PORT: [1]'), { SHA: 'a' });
    expect(lines.join('\n')).toMatch(/env\.yaml:6:\d+: .*vars/);
  });

  it('substitution of a value without references returns the same value (no copy)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        fc.pre(!text.includes('${var:'));
        expect(substituteVariables(v, { A: 'x' }).value).toBe(v);
      }),
      { numRuns: 200 },
    );
  });
});
