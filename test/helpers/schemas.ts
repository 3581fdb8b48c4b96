/**
 * bp's output schemas (schemas/*.schema.json) compiled once, strictly, for tests that check
 * what a command printed: `expectValid(file, doc)`, plus the naming-style check every JSON
 * output must pass and a reader for JSON-lines output.
 */
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

/** camelCase anywhere in the keys of a document: not allowed in bp's JSON. */
export function camelKeys(v: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x, i) => camelKeys(x, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      // Maps keyed by user-chosen ids or env var names are data, not field names.
      if (/[a-z][A-Z]/.test(k) && !/\.(env|ci|config|deployers|vars)$/.test(path)) out.push(`${path}.${k}`);
      camelKeys(x, `${path}.${k}`, out);
    }
  }
  return out;
}

/** One JSON document per non-empty line. */
export const ndjson = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
