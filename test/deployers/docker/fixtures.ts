/** Builders for docker deployer tests: environments of image revisions, a deployer, cleanup. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import plugin from '../../../src/deployers/docker.js';
import type { DockerConfig } from '../../../src/deployers/docker/config.js';
import type {
  Deployer,
  DeployerDeployment,
  DeployerEnvironment,
  DeployerRevision,
  Logger,
} from '../../../src/model/deployer.js';
import type { SplitEntry } from '../../../src/model/environment.js';
import { killAll, recordedPids } from '../local-process-fixtures.js';

export const ENV_ID = 'dtest';

export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function imageRevision(id: string, image: string, overrides: Partial<DeployerRevision> = {}): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image, env: { VERSION: id } },
    resources: { cpu: 0.5, memory_mb: 64, replicas: 1, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 20 },
    drain_seconds: 3,
    ttl: null,
    state: 'ready',
    lifecycle: 'staged',
    outputs: {},
    endpoint: null,
    ...overrides,
  };
}

export function deployment(
  id: string,
  listen: string | null,
  revisions: DeployerRevision[],
  traffic: SplitEntry[],
): DeployerDeployment {
  return { deployment_id: id, deployer: 'containers', listen, revisions, traffic };
}

export function environment(deployments: DeployerDeployment[], environmentId = ENV_ID): DeployerEnvironment {
  return {
    schema: 'bp.environment/v1',
    environment_id: environmentId,
    deployers: { containers: { type: 'docker', config: {} } },
    deployments,
    notifications: [],
    base_dir: tmpdir(),
  };
}

export const opts = (): { signal: AbortSignal } => ({ signal: new AbortController().signal });

/** Deployers made here get their own state dirs; `cleanupDeployers` kills their routers and removes the dirs. */
const stateDirs: string[] = [];

export async function newDeployer(
  config: DockerConfig,
  logger: Logger = quietLogger,
): Promise<{ deployer: Deployer; stateDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bp-docker-'));
  stateDirs.push(stateDir);
  const deployer = await plugin.create(
    { health_check_interval_ms: 200, kill_grace_seconds: 2, ...config },
    { logger, stateDir },
  );
  return { deployer, stateDir };
}

export function cleanupDeployers(): void {
  for (const dir of stateDirs.splice(0)) {
    killAll(recordedPids(dir));
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ContainerView {
  name: string;
  state: string;
  labels: Record<string, string>;
}

/** What podman itself lists (the engine's truth, independent of the deployer). */
export async function containersOf(
  podman: (...args: string[]) => Promise<string>,
  revisionId?: string,
): Promise<ContainerView[]> {
  const filter = revisionId ? ['--filter', `label=bp.revision=${revisionId}`] : [];
  const out = await podman('ps', '--all', '--format', 'json', ...filter);
  const list = JSON.parse(out || '[]') as Array<{
    Names: string[];
    State: string;
    Labels: Record<string, string> | null;
  }>;
  return list
    .map((c) => ({ name: c.Names[0], state: c.State, labels: c.Labels ?? {} }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
