/** Fixture access and problem formatting shared by the spec tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { InvalidInputError, type InputProblem } from '../../src/model/errors.js';
import { parseEnvironment } from '../../src/spec/index.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/spec/', import.meta.url));

export function fixture(kind: 'valid' | 'invalid', name: string): string {
  return readFileSync(`${FIXTURES}${kind}/${name}`, 'utf8');
}

export function fixtureNames(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(`${FIXTURES}${kind}`)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

/** `LINE:COL: message` lines of the InvalidInputError that parsing `text` must throw. */
export function problemLines(text: string, file = 'env.yaml'): string[] {
  return problemsOf(text, file).map((p) => `${p.line}:${p.col}: ${p.message}`);
}

export function problemsOf(text: string, file = 'env.yaml'): InputProblem[] {
  try {
    parseEnvironment(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    const err = e as InvalidInputError;
    expect(err.code).toBe('InvalidInput');
    for (const p of err.problems) expect(p.file).toBe(file);
    return err.problems;
  }
  throw new Error('expected the environment to be rejected, but it parsed');
}

/** A small valid environment to mutate: line numbers below are stable. */
export const MINIMAL = `schema: bp.environment/v1
environment_id: demo
deployers:
  local: { type: local-process }
deployments:
  - deployment_id: web
    deployer: local
    revisions:
      - revision_id: web-v1
        artifact: { command: [node, server.js] }
    traffic:
      - { revision_id: web-v1, weight_bps: 10000 }
`;

/** ajv errors without the schema objects they point into (identical in content, not in identity). */
export const comparableErrors = (errors: unknown) =>
  ((errors ?? []) as Array<Record<string, unknown>>).map(({ schema, parentSchema, ...rest }) => ({
    ...rest,
    schema: JSON.stringify(schema),
    parentSchema: JSON.stringify(parentSchema),
  }));
