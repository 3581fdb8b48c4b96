/**
 * `secrets_as_files` against a real engine (podman's Docker API): a secret env value is in
 * neither `docker inspect` (GET /containers/ID/json) nor the container's environment, and is
 * readable inside the container from a 0400 file on a tmpfs, named by NAME_FILE; plain values
 * stay in Env. It survives a restart of the container.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsTar, splitSecrets } from '../../src/deployers/docker/secret-files.js';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';
import { redactor } from '../../src/model/redact.js';
import { cleanupDeployers, deployment, environment, imageRevision, newDeployer, opts } from './docker/fixtures.js';
import { buildTestImage, type PodmanEngine, startPodman } from './docker/podman.js';

const CANARY = 'canary-4f9c2e7a-docker-file';
/** Longer than a ustar header's 100-byte name field: it reaches the container through a pax header. */
const LONG_NAME = `LONG_${'N'.repeat(150)}`;

function getJson(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('secret files (pure)', () => {
  it('moves only values the redactor knows, leaving NAME_FILE', () => {
    redactor.register(CANARY);
    expect(splitSecrets({ A: 'plain', TOKEN: CANARY, DSN: `pg://u:${CANARY}@h` }, '/run/secrets')).toEqual({
      env: { A: 'plain', TOKEN_FILE: '/run/secrets/TOKEN', DSN_FILE: '/run/secrets/DSN' },
      files: { TOKEN: CANARY, DSN: `pg://u:${CANARY}@h` },
    });
  });

  it('writes a ustar archive of 0400 root files', () => {
    const tar = secretsTar({ TOKEN: CANARY });
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(0, 5).toString()).toBe('TOKEN');
    expect(tar.subarray(100, 107).toString()).toBe('0000400');
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
    expect(tar.subarray(512, 512 + CANARY.length).toString()).toBe(CANARY);
  });

  it('carries a name over 100 bytes in a pax extended header before its entry', () => {
    const tar = secretsTar({ [LONG_NAME]: CANARY });
    expect(tar.subarray(156, 157).toString()).toBe('x');
    const size = parseInt(tar.subarray(124, 135).toString(), 8);
    const record = tar.subarray(512, 512 + size).toString();
    expect(record).toBe(`${record.length} path=${LONG_NAME}\n`);
    expect(record.split(' ')[0]).toBe(String(Buffer.byteLength(record)));
    const entry = 512 + Math.ceil(size / 512) * 512;
    expect(tar.subarray(entry, entry + 100).toString()).toBe(LONG_NAME.slice(0, 100));
    expect(tar.subarray(entry + 156, entry + 157).toString()).toBe('0');
    expect(tar.subarray(entry + 512, entry + 512 + CANARY.length).toString()).toBe(CANARY);
  });
});

describe('docker deployer with secrets_as_files', () => {
  let engine: PodmanEngine;
  let deployer: Deployer;
  let env: DeployerEnvironment;

  beforeAll(async () => {
    redactor.register(CANARY);
    engine = await startPodman();
    const image = await buildTestImage(engine);
    ({ deployer } = await newDeployer({ socket_path: engine.socketPath, secrets_as_files: true }));
    const v1 = imageRevision('sec-v1', image, {
      artifact: { image, env: { VERSION: 'sec-v1', API_TOKEN: CANARY, [LONG_NAME]: CANARY } },
    });
    env = environment([deployment('web', null, [v1], [{ revision_id: 'sec-v1', weight_bps: 10000 }])]);
  });

  afterAll(async () => {
    cleanupDeployers();
    await engine?.stop();
  });

  it('keeps the value out of docker inspect and Env, and serves it from a 0400 file on a tmpfs', async () => {
    await deployer.stageRevision(env, 'sec-v1', opts());
    const warmed = await deployer.warmRevision(env, 'sec-v1', opts());
    expect(warmed.endpoint).toBeTruthy();
    const [id] = warmed.outputs?.container_ids as string[];

    const inspect = await getJson(engine.socketPath, `/containers/${id}/json`);
    expect(inspect.status).toBe(200);
    expect(inspect.body).not.toContain(CANARY);
    const info = JSON.parse(inspect.body) as { Config: { Env: string[] } };
    expect(info.Config.Env).toContain('API_TOKEN_FILE=/run/secrets/API_TOKEN');
    expect(info.Config.Env).toContain('VERSION=sec-v1');
    expect(info.Config.Env.some((e) => e.startsWith('API_TOKEN='))).toBe(false);
    expect(await engine.podman('inspect', id)).not.toContain(CANARY);

    const name = 'bp-dtest-sec-v1-0';
    expect(await engine.podman('exec', name, 'cat', '/run/secrets/API_TOKEN')).toBe(CANARY);
    expect((await engine.podman('exec', name, 'busybox', 'stat', '-c', '%a %u', '/run/secrets/API_TOKEN')).trim()).toBe(
      '400 0',
    );
    expect(await engine.podman('exec', name, 'busybox', 'grep', ' /run/secrets ', '/proc/mounts')).toMatch(/^tmpfs /);
    expect(await engine.podman('exec', name, 'cat', '/proc/1/environ')).not.toContain(CANARY);

    expect(await engine.podman('exec', name, 'cat', `/run/secrets/${LONG_NAME}`)).toBe(CANARY);
    expect(info.Config.Env).toContain(`${LONG_NAME}_FILE=/run/secrets/${LONG_NAME}`);

    await engine.podman('restart', '--time', '0', name);
    expect(await engine.podman('exec', name, 'cat', '/run/secrets/API_TOKEN')).toBe(CANARY);
  });
});
