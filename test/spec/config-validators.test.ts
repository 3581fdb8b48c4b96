// The built-in deployers' config validators compiled ahead of time (src/spec/config-validators/)
// must be exactly what the generator makes from today's schemas, must be the ones bp uses for
// those schemas, and must judge configs (and fill in defaults) exactly as the schemas compiled
// at run time do.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { comparableErrors } from './helpers.js';
import type { ValidateFunction } from 'ajv';
import { builtInConfigSchemas, builtInTypes } from '../../src/deployers/registry.js';
import { configValidatorWithDefaults, loadGeneratedConfigValidators } from '../../src/spec/deployer-configs.js';
import { CONFIG_AJV_OPTIONS, configSchemaForAjv } from '../../src/spec/schema-options.js';
import { GENERATED_CONFIG_VALIDATORS_DIR, generateConfigValidatorModules } from '../../src/spec/validator-codegen.js';

const schemas = await builtInConfigSchemas();
const dir = fileURLToPath(GENERATED_CONFIG_VALIDATORS_DIR);

/** Configs that reach many keywords: empty, unknown keys, and each property with wrong and odd values. */
function sampleConfigs(schema: Record<string, unknown>): unknown[] {
  const properties = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
  const odd: unknown[] = [12345, -1, 0, 'x', '', true, null, [], ['a', 7], { a: 1 }, 1.5, 'a'.repeat(300)];
  const out: unknown[] = [{}, { no_such_key: 1 }, 'not an object', []];
  for (const value of odd) out.push(Object.fromEntries(properties.map((p) => [p, value])));
  for (const p of properties) for (const value of odd) out.push({ [p]: value });
  return out;
}

describe('ahead-of-time compiled deployer config validators', () => {
  it('are up to date with every built-in config schema (else run: npm run generate:validator)', () => {
    const fresh = generateConfigValidatorModules(schemas);
    const committed = readdirSync(dir).filter((f) => f.endsWith('.generated.ts'));
    expect(committed.sort()).toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh)
      expect(
        readFileSync(`${dir}/${name}`, 'utf8') === text,
        `${name} is out of date: run npm run generate:validator`,
      ).toBe(true);
  });

  it('are found for each built-in schema, and only for a schema with exactly that content', async () => {
    expect(Object.keys(schemas).sort()).toEqual(builtInTypes());
    expect(await loadGeneratedConfigValidators(Object.values(schemas))).toBe(builtInTypes().length);
    const edited = { ...schemas['local-process'], description: 'edited after generating' };
    expect(await loadGeneratedConfigValidators([edited])).toBe(0);
    // A schema without a generated validator is still compiled, and judges the same.
    const validate = await configValidatorWithDefaults(edited);
    expect(validate({ no_such_key: 1 })).toBe(false);
  });

  it('judge every sample config and fill in defaults exactly as the schema compiled at run time', async () => {
    let judged = 0;
    let refused = 0;
    for (const [type, schema] of Object.entries(schemas)) {
      const module = (await import(`${dir}/${type}.generated.ts`)) as Record<'check' | 'defaults', ValidateFunction>;
      const runtime = {
        check: new Ajv2020(CONFIG_AJV_OPTIONS.check).compile(configSchemaForAjv(schema)),
        defaults: new Ajv2020(CONFIG_AJV_OPTIONS.defaults).compile(configSchemaForAjv(schema)),
      };
      for (const config of sampleConfigs(schema)) {
        const what = `${type}: ${JSON.stringify(config).slice(0, 120)}`;
        const expected = runtime.check(config);
        expect(module.check(config), what).toBe(expected);
        expect(comparableErrors(module.check.errors), what).toEqual(comparableErrors(runtime.check.errors));
        const [mine, theirs] = [structuredClone(config), structuredClone(config)];
        expect(module.defaults(mine), what).toBe(runtime.defaults(theirs));
        expect(mine, what).toEqual(theirs);
        judged++;
        if (!expected) refused++;
      }
    }
    expect(judged).toBeGreaterThan(1500);
    expect(refused).toBeGreaterThan(judged / 2);
  });
});
