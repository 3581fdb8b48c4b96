/**
 * How the environment schema is compiled, shared by the run-time compile (schema.ts) and the
 * ahead-of-time one (validator-codegen.ts). Imports nothing generated, so the generator still
 * runs when the generated module is missing or broken.
 */
import { createHash } from 'node:crypto';
import type { Options } from 'ajv';

/** The options bp validates env files with, ahead of time and at run time alike. */
export const ENVIRONMENT_AJV_OPTIONS: Options = {
  // allErrors: an operator fixes every problem in one edit-validate round.
  // verbose: error objects carry the parent schema, used to suggest a misspelt key.
  allErrors: true,
  verbose: true,
  strict: true,
  strictTypes: false,
  strictRequired: false,
  strictTuples: false,
};

/** Digest of a schema's content (not its formatting): names what a generated validator was made from. */
export function schemaDigest(schemaText: string): string {
  return objectDigest(JSON.parse(schemaText));
}

/** Digest of a schema object's content. */
export function objectDigest(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

export type ConfigValidatorKind = 'check' | 'defaults';

/**
 * How deployer config schemas are compiled, ahead of time and at run time alike. Plugin schemas
 * come from third parties: accept unknown keywords and formats rather than refusing a working
 * plugin over an annotation. `check` is what `bp validate` judges with (verbose: errors carry
 * the parent schema, for suggestions); `defaults` fills in defaults, as deployers get their config.
 */
export const CONFIG_AJV_OPTIONS: Record<ConfigValidatorKind, Options> = {
  check: { allErrors: true, strict: false, logger: false, verbose: true },
  defaults: { allErrors: true, strict: false, logger: false, useDefaults: true },
};

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

/**
 * A config schema as ajv's 2020-12 compiler takes it: many plugins declare draft-07, whose
 * keywords we use read the same under 2020-12, but ajv would refuse the unknown meta-schema URI.
 */
export function configSchemaForAjv(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema, ...rest } = schema;
  return $schema === undefined || $schema === DRAFT_2020 ? schema : rest;
}
