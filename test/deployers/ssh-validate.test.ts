/**
 * What the ssh deployer refuses at validate (src/deployers/ssh/env-checks.ts through the
 * plugin's checkEnvironment), each problem at the FILE:LINE:COL of the offending value, and the
 * command-line limit every remote command meets before a host is asked (no sshd needed: the
 * refusal comes before any connection).
 */
import { describe, expect, it } from 'vitest';
import { validationLab } from '../helpers/validate-problems.js';
import { settingsOf } from '../../src/deployers/ssh/config.js';
import { SshDeployer } from '../../src/deployers/ssh/deployer.js';
import { Host } from '../../src/deployers/ssh/host.js';
import type { ConnectionPool } from '../../src/deployers/ssh/pool.js';
import { START_REPLICA } from '../../src/deployers/ssh/scripts.js';
import type { DeployerEnvironment } from '../../src/model/deployer.js';

const { dir, problems, refusedAt } = validationLab('bp-ssh-validate');

const envFile = (artifact: string) => `schema: bp.environment/v1
environment_id: prod
deployers:
  metal:
    type: ssh
    config:
      hosts: [{ host: web1.example.net, user: deploy, private_key_path: ~/.ssh/id, host_key: "SHA256:abc" }]
deployments:
  - deployment_id: web
    deployer: metal
    listen: 0.0.0.0:8080
    revisions:
      - revision_id: web-v1
        artifact: ${artifact}
    traffic: [{ revision_id: web-v1, weight_bps: 10000 }]
`;

describe('ssh limits at validate', () => {
  it('accepts a plain environment', async () => {
    expect(await problems('ok', envFile('{ command: [node, server.js], env: { GREETING: hi } }'))).toEqual([]);
  });

  it('refuses an image artifact, at the artifact', async () => {
    await refusedAt(
      'image',
      envFile('{ image: web }'),
      'artifact:',
      /declares an image \(web\); the ssh deployer runs artifact.command/,
    );
  });

  it('refuses an env string exec cannot pass, at the env value', async () => {
    await refusedAt(
      'env',
      envFile(`{ command: [./server], env: { BIG: "${'x'.repeat(131_068)}" } }`),
      '"xxx',
      /env "BIG" is 131072 bytes as NAME=value; Linux refuses an environment string over 131071 bytes/,
    );
  });

  it('refuses a command whose start command line is over one argument of the login shell, at artifact.command', async () => {
    const yaml = envFile(`{ command: [./server, "${'a'.repeat(130_000)}"] }`);
    await refusedAt(
      'argv',
      yaml,
      'command:',
      /starting revision "web-v1" on deploy@web1.example.net:22: the command line would be 13\d{4} bytes; .* over 131071 bytes/,
    );
    expect(await problems('argv-fits', envFile(`{ command: [./server, "${'a'.repeat(120_000)}"] }`))).toEqual([]);
  });
});

describe('before any host is asked', () => {
  const asked: string[] = [];
  const pool = { get: async () => asked.push('connection') } as unknown as ConnectionPool;
  const config = { host: 'h', user: 'u', private_key_path: '/k', host_key: 'SHA256:x' };
  const host = new Host(config, 0, pool, settingsOf({ hosts: [config] }));

  it('a command line over 131,071 bytes is refused before a connection is asked for', async () => {
    await expect(host.script(START_REPLICA, ['x'.repeat(131_072)], 'starting replica 0 of "web-v1"')).rejects.toThrow(
      /starting replica 0 of "web-v1": the command line would be \d+ bytes; sshd runs it as one argument of the login shell/,
    );
    expect(asked).toEqual([]);
  });

  it('warm refuses a resolved env value exec cannot pass before a connection is asked for', async () => {
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const deployer = new SshDeployer([host], pool, quiet, []);
    const revision = {
      revision_id: 'web-v1',
      artifact: { command: ['./server'], env: { BIG: 'x'.repeat(200_000) } },
      resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
      health: { http_path: '/healthz', timeout_seconds: 5 },
      drain_seconds: 0,
      ttl: null,
      state: 'ready',
      lifecycle: 'staged',
      outputs: {},
      endpoint: null,
    };
    const env = {
      schema: 'bp.environment/v1',
      environment_id: 'prod',
      deployers: { metal: { type: 'ssh', config: {} } },
      deployments: [{ deployment_id: 'web', deployer: 'metal', listen: null, revisions: [revision], traffic: [] }],
      notifications: [],
      base_dir: dir,
    } as unknown as DeployerEnvironment;
    await expect(deployer.warmRevision(env, 'web-v1', { signal: new AbortController().signal })).rejects.toThrow(
      /env "BIG" is 200004 bytes as NAME=value/,
    );
    expect(asked).toEqual([]);
  });
});
