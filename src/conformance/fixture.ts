/**
 * The environment the bench generates for each check: three deployments whose revisions sit
 * in different lifecycle states, on free loopback ports, running a tiny HTTP server script
 * written into the scratch directory (so it exists whether bp runs from sources or dist).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { DeployerEnvironment, DeployerRevision } from '../model/deployer.js';
import { ENVIRONMENT_SCHEMA, type Artifact } from '../model/environment.js';
import type { FixtureOptions } from './types.js';

export const DEPLOYER_INSTANCE = 'bench';
export const REVISION_ENV_VAR = 'BP_BENCH_REVISION';
const HEALTH_TIMEOUT_SECONDS = 20;

/** Answers 200 with its revision id on every path (so /healthz too), on $PORT. */
const SERVER_SCRIPT = `// Written by bp's conformance bench: a stand-in revision for real deployers.
import { createServer } from 'node:http';
const id = process.env.${REVISION_ENV_VAR} ?? 'unknown';
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(id + '\\n');
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;

/** Writes the server script once per bench run; returns its absolute path. */
export async function writeFixtureServer(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'revision-server.mjs');
  await writeFile(path, SERVER_SCRIPT, 'utf8');
  return path;
}

/** A port nothing listens on right now (bind port 0, read it, release it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not find a free loopback port'))));
    });
  });
}

/** Ids of one check's fixture; every id starts with the check's prefix so checks never collide. */
export interface FixtureIds {
  prefix: string;
  /** Deployments: `a` and `b` get splits, `c` never has one. */
  a: string;
  b: string;
  c: string;
  /** `a0` is recorded archived (the file dropped it); `b3` is declared inactive. */
  a0: string;
  a1: string;
  a2: string;
  a3: string;
  b1: string;
  b2: string;
  b3: string;
  c1: string;
  /** Declared with an artifact no deployer can run (error-shape check). */
  cBroken: string;
  /** Named by no deployment. */
  ghost: string;
  noDeployment: string;
}

export function fixtureIds(prefix: string): FixtureIds {
  const id = (s: string) => `${prefix}-${s}`;
  return {
    prefix: `${prefix}-`,
    a: id('a'),
    b: id('b'),
    c: id('c'),
    a0: id('a0'),
    a1: id('a1'),
    a2: id('a2'),
    a3: id('a3'),
    b1: id('b1'),
    b2: id('b2'),
    b3: id('b3'),
    c1: id('c1'),
    cBroken: id('cx'),
    ghost: id('ghost'),
    noDeployment: id('nodeploy'),
  };
}

export interface FixtureInput {
  prefix: string;
  environmentId: string;
  deployerType: string;
  config: Record<string, unknown>;
  serverPath: string;
  baseDir: string;
  options?: FixtureOptions;
}

export async function buildFixture(input: FixtureInput): Promise<{ ids: FixtureIds; env: DeployerEnvironment }> {
  const ids = fixtureIds(input.prefix);
  const [portA, portB, portC] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
  const artifact = (revisionId: string): Artifact => {
    const base = input.options?.artifact ?? { command: [process.execPath, input.serverPath], env: {} };
    return { ...structuredClone(base), env: { ...base.env, [REVISION_ENV_VAR]: revisionId } };
  };
  const rev = (revisionId: string, over: Partial<DeployerRevision> = {}): DeployerRevision => ({
    revision_id: revisionId,
    artifact: artifact(revisionId),
    resources: { cpu: 0.1, memory_mb: 64, replicas: 1, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: HEALTH_TIMEOUT_SECONDS },
    drain_seconds: 1,
    ttl: null,
    state: 'ready',
    lifecycle: 'inactive',
    outputs: {},
    endpoint: null,
    ...over,
  });
  const env: DeployerEnvironment = {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: input.environmentId,
    deployers: { [DEPLOYER_INSTANCE]: { type: input.deployerType, config: input.config } },
    deployments: [
      {
        deployment_id: ids.a,
        deployer: DEPLOYER_INSTANCE,
        listen: `127.0.0.1:${portA}`,
        revisions: [
          rev(ids.a0, { state: 'archived', lifecycle: 'archived' }),
          rev(ids.a1),
          rev(ids.a2),
          rev(ids.a3, { ttl: '1h' }),
        ],
        traffic: [],
      },
      {
        deployment_id: ids.b,
        deployer: DEPLOYER_INSTANCE,
        listen: `127.0.0.1:${portB}`,
        revisions: [rev(ids.b1), rev(ids.b2), rev(ids.b3, { state: 'inactive' })],
        traffic: [],
      },
      {
        deployment_id: ids.c,
        deployer: DEPLOYER_INSTANCE,
        listen: `127.0.0.1:${portC}`,
        revisions: [
          rev(ids.c1),
          rev(ids.cBroken, {
            artifact: failingArtifact(input.options, ids.cBroken),
            health: { http_path: '/healthz', timeout_seconds: 5 },
          }),
        ],
        traffic: [],
      },
    ],
    notifications: [],
    base_dir: input.baseDir,
  };
  return { ids, env };
}

/** Something no provider can run: a missing program, or an image under a reserved TLD. */
function failingArtifact(options: FixtureOptions | undefined, revisionId: string): Artifact {
  if (options?.failingArtifact) return structuredClone(options.failingArtifact);
  const env = { [REVISION_ENV_VAR]: revisionId };
  if (options?.artifact?.image !== undefined) return { image: 'bp-bench.invalid/no-such-image:never', env };
  return { command: ['/nonexistent/bp-bench/no-such-program'], env };
}
