/** Builders for local-process deployer tests: environments, a deployer, and cleanup. */
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import plugin from '../../src/deployers/local-process.js';
import type {
  Deployer,
  DeployerDeployment,
  DeployerEnvironment,
  DeployerRevision,
  Logger,
} from '../../src/model/deployer.js';
import type { SplitEntry } from '../../src/model/environment.js';
import { freePort } from '../helpers/ports.js';
export { freePort };

export const EXAMPLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples');

export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function revision(id: string, overrides: Partial<DeployerRevision> = {}): DeployerRevision {
  return {
    revision_id: id,
    artifact: { command: ['node', 'app/server.mjs'], env: { VERSION: id, GREETING: 'hello' } },
    resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 10 },
    drain_seconds: 5,
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
  return { deployment_id: id, deployer: 'local', listen, revisions, traffic };
}

export function environment(deployments: DeployerDeployment[], baseDir = EXAMPLES_DIR): DeployerEnvironment {
  return {
    schema: 'bp.environment/v1',
    environment_id: 'test',
    deployers: { local: { type: 'local-process', config: {} } },
    deployments,
    notifications: [],
    base_dir: baseDir,
  };
}

export function newStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'bp-local-'));
}

export async function newDeployer(stateDir: string, config: Record<string, unknown> = {}): Promise<Deployer> {
  return plugin.create(
    { kill_grace_seconds: 2, health_check_interval_ms: 200, ...config },
    { logger: quietLogger, stateDir },
  );
}

export const opts = (): { signal: AbortSignal } => ({ signal: new AbortController().signal });

/** Whether something accepts connections on the port. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}

export function pidAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}

/** Every pid the deployer recorded under `stateDir` (replicas and routers). */
export function recordedPids(stateDir: string): number[] {
  const pids: number[] = [];
  const revisions = join(stateDir, 'revisions');
  if (existsSync(revisions)) {
    for (const id of readdirSync(revisions)) {
      const f = join(revisions, id, 'replicas.json');
      if (existsSync(f)) pids.push(...(JSON.parse(readFileSync(f, 'utf8')) as { pid: number }[]).map((r) => r.pid));
    }
  }
  const routers = join(stateDir, 'routers');
  if (existsSync(routers)) {
    for (const id of readdirSync(routers)) {
      const f = join(routers, id, 'router.json');
      if (existsSync(f)) pids.push((JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid);
    }
  }
  return pids;
}

/** Test cleanup: kill whatever a deployer left running, whole process groups. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
