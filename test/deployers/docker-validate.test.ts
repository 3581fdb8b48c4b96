/**
 * What the docker deployer refuses at validate (src/deployers/docker/env-checks.ts through the
 * plugin's checkEnvironment), each problem at the FILE:LINE:COL of the offending value, and
 * what stage and warm refuse before the engine is asked (an engine that records every call).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { positionOf, validationLab } from '../helpers/validate-problems.js';
import { DockerDeployer } from '../../src/deployers/docker/deployer.js';
import type { Engine } from '../../src/deployers/docker/engine.js';
import { settingsFrom } from '../../src/deployers/docker/config.js';
import { bp } from '../helpers/cli.js';
import { deployment, environment, imageRevision, opts, quietLogger } from './docker/fixtures.js';

const { dir, problems, refusedAt } = validationLab('bp-docker-validate');

/** One deployment with one revision, its `artifact`, `resources` and the deployer `config` as flow mappings. */
const envFile = (
  artifact: string,
  resources = '{ cpu: 0.5, memory_mb: 64 }',
  config = '{}',
) => `schema: bp.environment/v1
environment_id: prod
deployers:
  containers:
    type: docker
    config: ${config}
deployments:
  - deployment_id: web
    deployer: containers
    revisions:
      - revision_id: web-v1
        artifact: ${artifact}
        resources: ${resources}
    traffic: [{ revision_id: web-v1, weight_bps: 10000 }]
`;

describe('docker limits at validate', () => {
  it('accepts a plain environment (a digest, a registry with a port, a tag)', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(await problems('ok', envFile(`{ image: "localhost:5000/team/web:1.2@${digest}" }`))).toEqual([]);
  });

  it('refuses an image reference the engine cannot parse, at artifact.image', async () => {
    await refusedAt(
      'upper',
      envFile('{ image: "registry.example.com/Web:1" }'),
      '"registry',
      /"registry.example.com\/Web:1" is not a valid image reference: the repository name must be lower case/,
    );
    await refusedAt('tag', envFile(`{ image: "web:${'x'.repeat(129)}" }`), '"web:', /a tag is 1 to 128 letters/);
    await refusedAt(
      'digest',
      envFile(`{ image: "web@sha256:${'a'.repeat(63)}" }`),
      '"web@',
      /a sha256 digest is 64 lower-case hex digits/,
    );
  });

  it('refuses a command artifact, at the artifact', async () => {
    await refusedAt(
      'command',
      envFile('{ command: [./server] }'),
      'artifact: {',
      /has no artifact.image; the docker deployer runs images/,
    );
  });

  it('refuses memory under 6 MB and CPUs under 0.01, at the field', async () => {
    await refusedAt(
      'memory',
      envFile('{ image: web }', '{ cpu: 0.5, memory_mb: 5 }'),
      '5 }',
      /resources.memory_mb 5 of revision "web-v1" is below Docker's minimum memory limit of 6 MB/,
    );
    await refusedAt(
      'cpu',
      envFile('{ image: web }', '{ cpu: 0.005, memory_mb: 6 }'),
      '0.005',
      /resources.cpu 0.005 of revision "web-v1" is below 0.01/,
    );
  });

  it('refuses an env string exec cannot pass (over 131,071 bytes), at the env value', async () => {
    const big = 'x'.repeat(131_071 - 'BIG='.length + 1);
    await refusedAt(
      'env',
      envFile(`{ image: web, env: { OK: "1", BIG: "${big}" } }`),
      '"xxx',
      /env "BIG" is 131072 bytes as NAME=value; Linux refuses an environment string over 131071 bytes/,
    );
    const fits = 'x'.repeat(131_071 - 'BIG='.length);
    expect(await problems('env-fits', envFile(`{ image: web, env: { BIG: "${fits}" } }`))).toEqual([]);
  });

  it('refuses, with secrets_as_files, a secret whose name is no file name (over NAME_MAX); a plain value stays in Env', async () => {
    const name = `S${'X'.repeat(255)}`;
    const files = '{ secrets_as_files: true }';
    await refusedAt(
      'tar',
      envFile(`{ image: web, env: { ${name}: "\${env:HOME}" } }`, undefined, files),
      '"${env',
      /env "SX+" holds a secret, .* a file name is at most 255 bytes/,
    );
    expect(await problems('tar-plain', envFile(`{ image: web, env: { ${name}: plain } }`, undefined, files))).toEqual(
      [],
    );
    // Longer than a ustar header's 100 bytes is fine: the name travels in a pax header.
    const long = `S${'X'.repeat(254)}`;
    expect(
      await problems('tar-long', envFile(`{ image: web, env: { ${long}: "\${env:HOME}" } }`, undefined, files)),
    ).toEqual([]);
  });

  it('refuses a publish_ip that is no IP address, at the config value', async () => {
    await refusedAt(
      'ip',
      envFile('{ image: web }', undefined, '{ publish_ip: localhost }'),
      'localhost',
      /publish_ip "localhost" is not an IP address/,
    );
  });
});

describe('bp validate on a docker env file over the limits', () => {
  it('prints each problem as FILE:LINE:COL: message, exits 1, and never reaches an engine', async () => {
    const file = join(dir, 'cli.yaml');
    const yaml = envFile('{ image: "Web:1" }', '{ cpu: 0.5, memory_mb: 5 }');
    writeFileSync(file, yaml);
    // An engine address nothing listens on: validate must not need one.
    const r = await bp(['validate', file], { cwd: dir, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(r.code).toBe(1);
    const image = positionOf(yaml, '"Web:1"');
    const memory = positionOf(yaml, '5 }');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `${file}:${image.line}:${image.col}: revision "web-v1": "Web:1" is not a valid image reference: the repository name must be lower case`,
      `${file}:${memory.line}:${memory.col}: resources.memory_mb 5 of revision "web-v1" is below Docker's minimum memory limit of 6 MB`,
    ]);
  });
});

/** An engine that answers `info` with `ncpu` CPUs and fails the test on anything else. */
function engineWith(ncpu: number): { engine: Engine; calls: string[] } {
  const calls: string[] = [];
  const engine = new Proxy(
    {},
    {
      get: (_, prop: string) => async () => {
        calls.push(prop);
        if (prop === 'info') return { NCPU: ncpu };
        throw new Error(`unexpected engine call ${prop}`);
      },
    },
  ) as Engine;
  return { engine, calls };
}

describe('docker limits before the engine is asked', () => {
  const deployer = (engine: Engine) =>
    new DockerDeployer({
      engine,
      settings: settingsFrom({}),
      where: 'unix:///test.sock',
      stateDir: mkdtempSync(join(tmpdir(), 'bp-docker-limits-')),
      logger: quietLogger,
    });

  it('stage and warm refuse more CPUs than the engine has, having asked only for its CPU count', async () => {
    const { engine, calls } = engineWith(2);
    const revision = imageRevision('web-v1', 'web:1', { resources: { cpu: 3, memory_mb: 64, replicas: 1, gpu: 0 } });
    const env = environment([deployment('web', null, [revision], [])]);
    await expect(deployer(engine).stageRevision(env, 'web-v1', opts())).rejects.toThrow(
      /resources.cpu 3 of revision "web-v1" is more than the 2 CPUs of the Docker engine at unix:\/\/\/test.sock/,
    );
    await expect(deployer(engine).warmRevision(env, 'web-v1', opts())).rejects.toThrow(/more than the 2 CPUs/);
    expect(calls).toEqual(['info', 'info']);
  });

  it('warm refuses a resolved env value exec cannot pass before any engine call', async () => {
    const { engine, calls } = engineWith(8);
    const revision = imageRevision('web-v1', 'web:1', {
      artifact: { image: 'web:1', env: { BIG: 'x'.repeat(200_000) } },
    });
    await expect(
      deployer(engine).warmRevision(environment([deployment('web', null, [revision], [])]), 'web-v1', opts()),
    ).rejects.toThrow(/env "BIG" is 200004 bytes as NAME=value/);
    expect(calls).toEqual([]);
  });
});
