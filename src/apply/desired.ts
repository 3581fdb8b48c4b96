/**
 * Loads an env file the way every command needs it: parsed and validated by `spec`, then
 * each deployer instance's config checked against its plugin's `configSchema`, all
 * problems reported together with positions.
 */
import { dirname, resolve } from 'node:path';
import { InvalidInputError, messageOf, type InputProblem } from '../model/errors.js';
import type { Environment } from '../model/environment.js';
import { builtInTypes, loadDeployerPlugin } from '../deployers/registry.js';
import { assertPluginTrusted } from '../deployers/plugin-trust.js';
import {
  loadEnvironmentFile,
  secretWarnings,
  validateDeployerConfigs,
  type EnvironmentCheck,
  type ParsedEnvironment,
} from '../spec/index.js';
import type { LoadOptions } from '../spec/parse.js';

export interface Desired {
  parsed: ParsedEnvironment;
  env: Environment;
  /** Absolute directory of the file: relative paths in it resolve here. */
  baseDir: string;
  file: string;
  /** `FILE:LINE:COL: warning: ...` lines (an unsigned webhook), printed by validate and plan. */
  warnings: string[];
  /** `FILE:LINE:COL` of a JSON path in the file (null for a saved plan's environment). */
  locate: (path: Array<string | number>) => string | null;
}

export interface DesiredOptions {
  /**
   * false: never import plugin code (`bp validate --no-plugins`, for untrusted pull requests).
   * Plugin trust (docs/security.md) is still checked, and built-in deployers still check
   * their configs; a plugin's own config schema is then not checked.
   */
  plugins?: boolean;
}

export async function loadDesired(
  file: string,
  options: LoadOptions = {},
  desiredOptions: DesiredOptions = {},
): Promise<Desired> {
  const parsed = await loadEnvironmentFile(file, options);
  const baseDir = dirname(resolve(file));
  const schemas: Record<string, Record<string, unknown>> = {};
  const checks: Record<string, EnvironmentCheck> = {};
  const problems: InputProblem[] = [];
  for (const [name, inst] of Object.entries(parsed.env.deployers)) {
    try {
      const builtIn = builtInTypes().includes(inst.type);
      assertPluginTrusted(inst.type, baseDir, builtIn);
      if (!builtIn && desiredOptions.plugins === false) continue;
      const plugin = await loadDeployerPlugin(inst.type, baseDir);
      schemas[name] = plugin.configSchema;
      if (plugin.checkEnvironment) checks[name] = plugin.checkEnvironment.bind(plugin) as EnvironmentCheck;
    } catch (e) {
      problems.push({ ...parsed.locate(['deployers', name, 'type']), message: messageOf(e) });
    }
  }
  problems.push(...(await validateDeployerConfigs(parsed, schemas, checks)));
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new InvalidInputError(problems);
  }
  const locate = (path: Array<string | number>) => {
    const p = parsed.locate(path);
    return `${p.file}:${p.line}:${p.col}`;
  };
  return { parsed, env: parsed.env, baseDir, file, locate, warnings: secretWarnings(parsed) };
}
