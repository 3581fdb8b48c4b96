/**
 * Materializes the runtime config (docs/design.md#runtime-config) after every apply: the pure
 * projection of recorded state, except that a deployer offering `reportRuntimeConfig`
 * speaks for its own deployments.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeConfig } from '../model/deployer.js';
import type { Environment } from '../model/environment.js';
import { projectRuntimeConfig } from '../model/runtime-config.js';
import type { RecordedState } from '../model/state.js';
import { writeFileDurable } from '../state/durable.js';
import { asIoError } from '../model/io-error.js';
import { deployerView, fullEnvironment } from './deployer-env.js';
import type { DeployerSet } from './deployer-set.js';

export function runtimeConfigPath(stateDir: string, environmentId: string): string {
  return join(stateDir, 'runtime', `${environmentId}.json`);
}

export async function buildRuntimeConfig(
  state: RecordedState,
  deployers: DeployerSet,
  baseDir: string,
  desired: Environment,
): Promise<RuntimeConfig> {
  const projected = projectRuntimeConfig(state);
  const full = fullEnvironment(desired, state);
  const byDeployment = new Map<string, RuntimeConfig['revisions']>();
  for (const e of projected.revisions) {
    const list = byDeployment.get(e.deployment_id) ?? [];
    list.push(e);
    byDeployment.set(e.deployment_id, list);
  }
  for (const name of deployers.names()) {
    const owned = new Set(
      Object.values(state.deployments)
        .filter((d) => d.deployer === name)
        .map((d) => d.deployment_id),
    );
    if (owned.size === 0) continue;
    const deployer = await deployers.get(name);
    if (!deployer.reportRuntimeConfig) continue;
    const reported = await deployer.reportRuntimeConfig(deployerView(full, state, name, baseDir));
    for (const id of owned) {
      if (!byDeployment.has(id)) continue;
      byDeployment.set(
        id,
        reported.revisions.filter((e) => e.deployment_id === id),
      );
    }
  }
  const revisions = [...byDeployment.keys()].sort().flatMap((id) => byDeployment.get(id)!);
  return { format_version: 'bp.runtime-config/v1', environment_id: state.environment_id, revisions };
}

export async function writeRuntimeConfig(
  stateDir: string,
  state: RecordedState,
  deployers: DeployerSet,
  baseDir: string,
  desired: Environment,
): Promise<RuntimeConfig> {
  const config = await buildRuntimeConfig(state, deployers, baseDir, desired);
  const dir = join(stateDir, 'runtime');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw asIoError('create runtime config folder', dir, e);
  }
  await writeFileDurable(runtimeConfigPath(stateDir, state.environment_id), JSON.stringify(config, null, 2) + '\n', {
    what: 'runtime config',
  });
  return config;
}

/** The materialized file, or the projection when no apply has written one yet. */
export async function readRuntimeConfig(stateDir: string, state: RecordedState): Promise<RuntimeConfig> {
  try {
    const file = JSON.parse(await readFile(runtimeConfigPath(stateDir, state.environment_id), 'utf8')) as
      RuntimeConfig | (Omit<RuntimeConfig, 'format_version'> & { schema: 'bp.runtime-config/v1' });
    // Files written before format_version replaced `schema` read the same.
    if ('schema' in file) {
      const { schema, ...rest } = file;
      return { format_version: schema, ...rest };
    }
    return file;
  } catch {
    return projectRuntimeConfig(state);
  }
}
