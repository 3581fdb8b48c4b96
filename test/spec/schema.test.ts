import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, ID_PATTERN } from '../../src/model/environment.js';
import { environmentSchema, environmentSchemaPath } from '../../src/spec/index.js';

type Schema = Record<string, unknown>;

const defs = () => environmentSchema().$defs as Record<string, Schema>;
const regexOf = (name: string) => new RegExp(String(defs()[name].pattern), 'u');

/** Every subschema, with a JSON-pointer-ish path for failure messages. */
function* subschemas(node: unknown, path = '#'): Generator<[string, Schema]> {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* subschemas(item, `${path}/${i}`);
    return;
  }
  const schema = node as Schema;
  yield [path, schema];
  for (const key of ['properties', '$defs']) {
    for (const [k, v] of Object.entries((schema[key] as Schema | undefined) ?? {}))
      yield* subschemas(v, `${path}/${key}/${k}`);
  }
  for (const key of ['items', 'additionalProperties', 'propertyNames', 'prefixItems', 'oneOf']) {
    if (schema[key] !== undefined && typeof schema[key] === 'object') yield* subschemas(schema[key], `${path}/${key}`);
  }
}

describe('schemas/environment.schema.json', () => {
  it('is a draft 2020-12 schema with an $id that ajv compiles strictly', () => {
    const schema = environmentSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(typeof schema.$id).toBe('string');
    const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTuples: false });
    expect(() => ajv.compile(schema)).not.toThrow();
    expect(environmentSchemaPath()).toMatch(/schemas\/environment\.schema\.json$/);
  });

  it('closes every object: unknown keys are errors everywhere except free-form deployer config', () => {
    const open: string[] = [];
    for (const [path, s] of subschemas(environmentSchema())) {
      if (s.type === 'object' && s.additionalProperties === undefined && !path.endsWith('/properties/config'))
        open.push(path);
    }
    expect(open).toEqual([]);
  });

  it('describes every property for editors', () => {
    const undocumented: string[] = [];
    for (const [path, s] of subschemas(environmentSchema())) {
      const target = typeof s.$ref === 'string' ? defs()[s.$ref.replace('#/$defs/', '')] : s;
      if (/\/properties\/[^/]+$/.test(path) && !s.description && !target?.description) undocumented.push(path);
    }
    expect(undocumented).toEqual([]);
    expect(environmentSchema().description).toMatch(/yaml-language-server/);
  });

  it('uses the model id and duration patterns verbatim', () => {
    expect(defs().id.pattern).toBe(ID_PATTERN);
    expect(defs().duration.pattern).toBe(DURATION_PATTERN);
  });

  it.each(['web', 'web-v1.2_3', 'A', '0', 'a'.repeat(63), 'a..b'])('accepts the id %j', (id) => {
    expect(regexOf('id').test(id)).toBe(true);
  });

  it.each([
    '',
    '..',
    '.hidden',
    '-x',
    '_x',
    'a/b',
    '../etc',
    'a b',
    'x;rm',
    '$(id)',
    '`id`',
    'a|b',
    'a&b',
    'a\nb',
    'a'.repeat(64),
    'é',
  ])('rejects the id %j', (id) => {
    expect(regexOf('id').test(id)).toBe(false);
  });

  it.each([
    '127.0.0.1:8080',
    '0.0.0.0:1',
    '[::1]:443',
    '[::]:65535',
    '[2001:db8::1]:80',
    'localhost:80',
    'api.internal.example:9000',
    'web-1:8080',
  ])('accepts the listen address %j', (listen) => {
    expect(regexOf('listen').test(listen)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '256.0.0.1:80',
    '1.2.3:80',
    '::1:80',
    '[::1]',
    'host:',
    ':80',
    '-host:80',
    'a b:80',
    'http://x:80',
  ])('rejects the listen address %j', (listen) => {
    expect(regexOf('listen').test(listen)).toBe(false);
  });

  it('returns a copy callers may change', () => {
    const a = environmentSchema();
    (a.$defs as Schema).id = {};
    expect(defs().id.pattern).toBe(ID_PATTERN);
  });
});
