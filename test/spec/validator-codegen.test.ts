// The ahead-of-time compiled validators (src/spec/environment-validator.generated.ts) must be
// exactly what the generator makes from today's schema, and must judge documents exactly as
// the schema compiled at run time does.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { comparableErrors } from './helpers.js';
import type { ValidateFunction } from 'ajv';
import * as generated from '../../src/spec/environment-validator.generated.js';
import { ENVIRONMENT_AJV_OPTIONS } from '../../src/spec/schema-options.js';
import {
  environmentSchema,
  environmentSchemaPath,
  environmentValidator,
  precompiledValidatorIsCurrent,
} from '../../src/spec/schema.js';
import { GENERATED_VALIDATOR_URL, generateValidatorModule } from '../../src/spec/validator-codegen.js';

const validateEnvironment = generated.validateEnvironment as unknown as ValidateFunction;
const validateSchema2020 = generated.validateSchema2020 as unknown as ValidateFunction;
const FIXTURES = fileURLToPath(new URL('../fixtures/spec/', import.meta.url));

function fixtureValues(): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const kind of ['valid', 'invalid']) {
    for (const name of readdirSync(join(FIXTURES, kind)).sort()) {
      try {
        const value = jsyaml.load(readFileSync(join(FIXTURES, kind, name), 'utf8'));
        if (value && typeof value === 'object') out.push([`${kind}/${name}`, value]);
      } catch {
        // syntax errors, several documents, alias bombs: nothing for a schema to judge
      }
    }
  }
  return out;
}

describe('ahead-of-time compiled environment validator', () => {
  it('is up to date with schemas/environment.schema.json (else run: npm run generate:validator)', () => {
    const committed = readFileSync(GENERATED_VALIDATOR_URL, 'utf8');
    const fresh = generateValidatorModule(readFileSync(environmentSchemaPath(), 'utf8'));
    expect(
      committed === fresh,
      'src/spec/environment-validator.generated.ts is out of date: run npm run generate:validator',
    ).toBe(true);
    expect(precompiledValidatorIsCurrent).toBe(true);
    expect(environmentValidator()).toBe(validateEnvironment);
  });

  it('gives the same verdict and the same errors as the schema compiled at run time, on every fixture', () => {
    const runtime = new Ajv2020(ENVIRONMENT_AJV_OPTIONS).compile(environmentSchema());
    const values = fixtureValues();
    expect(values.length).toBeGreaterThan(15);
    let invalid = 0;
    for (const [name, value] of values) {
      const expected = runtime(value);
      expect(validateEnvironment(value), name).toBe(expected);
      expect(comparableErrors(validateEnvironment.errors), name).toEqual(comparableErrors(runtime.errors));
      if (!expected) invalid++;
    }
    expect(invalid).toBeGreaterThan(5);
  });

  it('checks schemas against the 2020-12 meta-schema exactly as ajv does', () => {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, logger: false });
    const schemas = [
      { type: 'object', properties: { a: { type: 'string', minLength: 1 } } },
      { type: 'objekt' },
      { properties: 5 },
      { type: 'object', properties: { a: { minLength: -1 } } },
      { items: [{ type: 'string' }] },
    ];
    for (const schema of schemas) {
      const expected = ajv.validateSchema(schema);
      expect(validateSchema2020(schema), JSON.stringify(schema)).toBe(expected);
      expect(ajv.errorsText(validateSchema2020.errors)).toBe(ajv.errorsText(ajv.errors));
    }
  });
});
