/**
 * The environment JSON Schema (schemas/environment.schema.json) and its validator.
 * The JSON file is the single source of truth: editors read it through
 * `yaml-language-server`, and bp validates with the very same document.
 *
 * The validator is normally the ahead-of-time compiled one (`environment-validator.generated.ts`,
 * see validator-codegen.ts): compiling the schema with ajv cost every command ~0.2 s of CPU.
 * It is used only when its digest matches the schema file; otherwise (a schema edited without
 * regenerating, or a tree without the generated file) the schema is compiled here, as before.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { ENVIRONMENT_AJV_OPTIONS, schemaDigest } from './schema-options.js';

// src/spec/ (tsx, vitest) and dist/spec/ (the build) sit two levels below the package root,
// dist/src/spec/ (a build with the root tsconfig) three.
const SCHEMA_URL =
  [
    new URL('../../schemas/environment.schema.json', import.meta.url),
    new URL('../../../schemas/environment.schema.json', import.meta.url),
  ].find((url) => existsSync(url)) ?? new URL('../../schemas/environment.schema.json', import.meta.url);

interface GeneratedValidators {
  SCHEMA_DIGEST: string;
  validateEnvironment: ValidateFunction;
  validateSchema2020: ValidateFunction;
}

/** The generated module, or undefined when this tree has none (running from src before generating). */
const generated: GeneratedValidators | undefined = await import('./environment-validator.generated.js').then(
  (m) => m as unknown as GeneratedValidators,
  (e: NodeJS.ErrnoException) => {
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('environment-validator.generated'))
      return undefined;
    throw e;
  },
);

let cachedText: string | undefined;
let cachedSchema: Record<string, unknown> | undefined;
let cachedValidator: ValidateFunction | undefined;

function schemaText(): string {
  cachedText ??= readFileSync(SCHEMA_URL, 'utf8');
  return cachedText;
}

function generatedIsCurrent(): boolean {
  try {
    return generated !== undefined && generated.SCHEMA_DIGEST === schemaDigest(schemaText());
  } catch {
    return false; // an unreadable schema is reported by environmentSchema(), where it is used
  }
}

/** True when the generated validators were made from the schema file as it is now. */
export const precompiledValidatorIsCurrent: boolean = generatedIsCurrent();

// Validation is synchronous, so the compiler for the fallback is loaded up front, and only then.
const Ajv = precompiledValidatorIsCurrent ? undefined : (await import('ajv/dist/2020.js')).Ajv2020;

/** The environment schema document (a fresh deep copy: callers may mutate it). */
export function environmentSchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(schemaText()) as Record<string, unknown>;
  return structuredClone(cachedSchema);
}

/** Path of the schema file, for `# yaml-language-server: $schema=...` hints. */
export function environmentSchemaPath(): string {
  return SCHEMA_URL.pathname;
}

/** Once per process: the generated validator when current, else the schema compiled now. */
export function environmentValidator(): ValidateFunction {
  cachedValidator ??= Ajv
    ? new Ajv(ENVIRONMENT_AJV_OPTIONS).compile(environmentSchema())
    : generated!.validateEnvironment;
  return cachedValidator;
}

/**
 * The draft 2020-12 meta-schema's validator, for checking plugins' config schemas without
 * compiling the meta-schema (~0.1 s) in every process; undefined when not generated.
 */
export function metaSchemaValidator(): ValidateFunction | undefined {
  return generated?.validateSchema2020;
}
