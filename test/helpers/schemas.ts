/** The JSON Schemas under schemas/, compiled strictly once, for tests that validate bp's JSON outputs. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { ROOT } from './cli.js';

export const SCHEMAS = join(ROOT, 'schemas');
// The webhook schema (event.schema.json) names formats; ajv checks them only with ajv-formats.
export const ajv = new Ajv2020({
  strict: true,
  strictRequired: false,
  strictTuples: false,
  strictTypes: false,
  allErrors: true,
  formats: { 'date-time': true, uri: true, uuid: true },
});
for (const f of readdirSync(SCHEMAS).filter((n) => n.endsWith('.schema.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')) as object, f);
}

export const validator = (file: string): ValidateFunction => ajv.getSchema(file)!;

export function expectValid(file: string, doc: unknown): void {
  const v = validator(file);
  expect(v, `schema ${file}`).toBeTypeOf('function');
  const ok = v(doc);
  expect(ok, `${file}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(doc, null, 2).slice(0, 2000)}`).toBe(true);
}
