/**
 * What a command reads besides the env file: overlays (`--overlay`, repeatable) and variable
 * values, lowest precedence first: BP_VAR_NAME in the environment, `--var-file FILE` (YAML
 * mapping, in the order given), `--var NAME=VALUE` (in the order given). The file's own
 * `vars:` defaults sit below all of them (spec/variables.ts).
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../model/errors.js';
import type { LoadOptions } from '../spec/parse.js';
import { parseVarAssignment, VAR_NAME } from '../spec/variables.js';

export interface SourceFlags {
  overlay?: string[];
  var?: string[];
  'var-file'?: string[];
}

export async function loadOptionsFrom(flags: SourceFlags, env: NodeJS.ProcessEnv = process.env): Promise<LoadOptions> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('BP_VAR_') && v !== undefined && VAR_NAME.test(k.slice(7))) vars[k.slice(7)] = v;
  }
  for (const file of flags['var-file'] ?? []) Object.assign(vars, await readVarFile(file));
  for (const assignment of flags.var ?? []) {
    try {
      const [name, value] = parseVarAssignment(assignment);
      vars[name] = value;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return { overlays: flags.overlay ?? [], vars };
}

async function readVarFile(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read --var-file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  const { parse } = await import('yaml');
  let value: unknown;
  try {
    value = parse(text, { schema: 'core', maxAliasCount: 100 });
  } catch (e) {
    throw new UsageError(`--var-file ${file}: YAML syntax: ${(e as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--var-file ${file} must hold a mapping of NAME: value`);
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (!VAR_NAME.test(name))
      throw new UsageError(
        `--var-file ${file}: ${JSON.stringify(name)} is not a variable name (letters, digits and "_")`,
      );
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new UsageError(`--var-file ${file}: variable ${name} must be a string, number or boolean`);
    }
    out[name] = String(v);
  }
  return out;
}
