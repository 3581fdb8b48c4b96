/** The deployer config the bench runs with: read from YAML/JSON, checked against configSchema. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import type { DeployerPlugin } from '../model/deployer.js';
import { BpError } from '../model/errors.js';

/** Parses a `--config` file (JSON, or YAML, which also accepts JSON); an empty file is `{}`. */
export async function readConformanceConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BpError('InvalidInput', `cannot read deployer config ${path}: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new BpError(
      'InvalidInput',
      `deployer config ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BpError(
      'InvalidInput',
      `deployer config ${path} must be a mapping of settings, not ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Returns a copy of `config` with the schema's defaults filled in, or throws naming every problem. */
export function checkDeployerConfig(
  plugin: DeployerPlugin,
  type: string,
  config: Record<string, unknown>,
): Record<string, unknown> {
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false });
  let validate;
  try {
    validate = ajv.compile(plugin.configSchema);
  } catch (e) {
    throw new BpError('PluginLoad', `deployer "${type}" has an invalid configSchema: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const copy = structuredClone(config);
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((err) => `${err.instancePath || '/'} ${err.message ?? 'is invalid'}`);
    throw new BpError('InvalidInput', `config for deployer "${type}" is invalid: ${problems.join('; ')}`);
  }
  return copy;
}
