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
  return createHash('sha256')
    .update(JSON.stringify(JSON.parse(schemaText)))
    .digest('hex');
}
