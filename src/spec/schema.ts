/**
 * The environment JSON Schema (schemas/environment.schema.json) and its compiled validator.
 * The JSON file is the single source of truth: editors read it through
 * `yaml-language-server`, and bp validates with the very same document.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

// src/spec/ (tsx, vitest) and dist/spec/ (the build) sit two levels below the package root,
// dist/src/spec/ (a build with the root tsconfig) three.
const SCHEMA_URL =
  [
    new URL('../../schemas/environment.schema.json', import.meta.url),
    new URL('../../../schemas/environment.schema.json', import.meta.url),
  ].find((url) => existsSync(url)) ?? new URL('../../schemas/environment.schema.json', import.meta.url);

let cachedSchema: Record<string, unknown> | undefined;
let cachedValidator: ValidateFunction | undefined;

/** The environment schema document (a fresh deep copy: callers may mutate it). */
export function environmentSchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  return structuredClone(cachedSchema);
}

/** Path of the schema file, for `# yaml-language-server: $schema=...` hints. */
export function environmentSchemaPath(): string {
  return SCHEMA_URL.pathname;
}

/** Compiled once per process: the schema is static and compiling it costs milliseconds. */
export function environmentValidator(): ValidateFunction {
  if (!cachedValidator) {
    // allErrors: an operator fixes every problem in one edit-validate round.
    // verbose: error objects carry the parent schema, used to suggest a misspelt key.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, strictTuples: false });
    cachedValidator = ajv.compile(environmentSchema());
  }
  return cachedValidator;
}
