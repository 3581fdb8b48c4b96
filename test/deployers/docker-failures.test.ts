/**
 * The docker deployer when things go wrong, against a real engine (podman's Docker API):
 * missing images, containers that crash or never become healthy, a name taken by someone
 * else, an unreachable engine, an abort mid-warm; plus host network mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployer, DeployerEnvironment, DeployerRevision, Logger } from '../../src/model/deployer.js';
import { request } from '../router/support.js';
import {
  cleanupDeployers,
  containersOf,
  deployment,
  environment,
  imageRevision,
  newDeployer,
  opts,
} from './docker/fixtures.js';
import { buildTestImage, type PodmanEngine, startPodman } from './docker/podman.js';

let engine: PodmanEngine;
let image: string;
let deployer: Deployer;

const ENV = 'ftest';

function envWith(...revisions: DeployerRevision[]): DeployerEnvironment {
  return environment([deployment('svc', '127.0.0.1:1', revisions, [])], ENV);
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  engine = await startPodman();
  image = await buildTestImage(engine);
  ({ deployer } = await newDeployer({ socket_path: engine.socketPath }));
});

afterAll(async () => {
  cleanupDeployers();
  await engine?.stop();
});

describe('docker deployer failures', () => {
  it('stage names a missing image that cannot be pulled, as a non-retryable provider error', async () => {
    const env = envWith(imageRevision('gone', 'localhost/bp-no-such-image:1'));
    const e = await rejection(deployer.stageRevision(env, 'gone', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(e.message).toMatch(/image localhost\/bp-no-such-image:1 is not on the Docker engine .* could not be pulled/);

    const { deployer: noPull } = await newDeployer({ socket_path: engine.socketPath, pull_policy: 'never' });
    const e2 = await rejection(noPull.stageRevision(env, 'gone', opts()));
    expect(e2).toMatchObject({ code: 'Provider', retryable: false });
    expect(e2.message).toContain('pull_policy is "never"');
  });

  it('warm of a revision whose image is missing fails clearly and leaves nothing behind', async () => {
    const env = envWith(imageRevision('gone', 'localhost/bp-no-such-image:1'));
    const e = await rejection(deployer.warmRevision(env, 'gone', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(e.message).toContain('localhost/bp-no-such-image:1 is not on the Docker engine');
    expect(await containersOf(engine.podman, 'gone')).toEqual([]);
  });

  it('a container that crashes at start fails the warm with its last log lines, and is removed', async () => {
    const env = envWith(
      imageRevision('crash', image, {
        artifact: { image, env: { CRASH: 'bad config' } },
        health: { http_path: '/healthz', timeout_seconds: 8 },
      }),
    );
    const e = await rejection(deployer.warmRevision(env, 'crash', opts()));
    expect(e.code).toBe('Provider');
    expect(e.message).toContain('bp-ftest-crash-0');
    expect(e.message).toContain('crashing on purpose: bad config');
    expect(await containersOf(engine.podman, 'crash')).toEqual([]);
  });

  it('a container that never answers its health path fails the warm (retryable) and is removed', async () => {
    const env = envWith(imageRevision('sick', image, { health: { http_path: '/no-such-path', timeout_seconds: 2 } }));
    const e = await rejection(deployer.warmRevision(env, 'sick', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: true });
    expect(e.message).toMatch(/did not answer \/no-such-path with 2xx .* within 2s \(\/no-such-path answered 404\)/);
    expect(await containersOf(engine.podman, 'sick')).toEqual([]);
  });

  it('an abort while waiting for health stops the warm and removes what it created', async () => {
    const env = envWith(imageRevision('slow', image, { health: { http_path: '/no-such-path', timeout_seconds: 60 } }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const e = await rejection(deployer.warmRevision(env, 'slow', { signal: controller.signal }));
    expect(e.code).toBe('Aborted');
    expect(await containersOf(engine.podman, 'slow')).toEqual([]);
  });

  it('a container name held by a container bp did not create is a name conflict; the other container is untouched', async () => {
    await engine.podman('create', '--name', 'bp-ftest-taken-0', image);
    const env = envWith(imageRevision('taken', image));
    const e = await rejection(deployer.warmRevision(env, 'taken', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(e.message).toMatch(/name conflict while creating container bp-ftest-taken-0: .*already in use/);
    expect((await engine.podman('ps', '--all', '--format', '{{.Names}}')).split('\n')).toContain('bp-ftest-taken-0');
    await engine.podman('rm', 'bp-ftest-taken-0');
  });

  it('an unreachable engine is a retryable provider error that says what to do', async () => {
    const { deployer: lost } = await newDeployer({ socket_path: `${engine.dir}/no-such.sock` });
    const env = envWith(imageRevision('any', image));
    for (const call of [lost.observe(env, opts()), lost.stageRevision(env, 'any', opts())]) {
      const e = await rejection(call);
      expect(e).toMatchObject({ code: 'Provider', retryable: true });
      expect(e.message).toContain(`the Docker engine at unix://${engine.dir}/no-such.sock is unreachable (ENOENT)`);
      expect(e.message).toMatch(/DOCKER_HOST|socket_path/);
    }
  });
});

describe('docker deployer in host network mode', () => {
  it('runs the container on the host network on a free $PORT, observes it by labels, archives it; secrets never reach the log', async () => {
    const lines: string[] = [];
    const capture: Logger = {
      debug: (m, f) => lines.push(m + JSON.stringify(f ?? {})),
      info: (m, f) => lines.push(m + JSON.stringify(f ?? {})),
      warn: (m, f) => lines.push(m + JSON.stringify(f ?? {})),
      error: (m, f) => lines.push(m + JSON.stringify(f ?? {})),
    };
    const { deployer: hostMode } = await newDeployer({ socket_path: engine.socketPath, network_mode: 'host' }, capture);
    const env = envWith(
      imageRevision('onhost', image, { artifact: { image, env: { VERSION: 'onhost', TOKEN: 'top-secret-value' } } }),
    );
    const warmed = await hostMode.warmRevision(env, 'onhost', opts());
    expect(warmed.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await request(`${warmed.endpoint}/`)).body).toBe('onhost\n');
    const [c] = JSON.parse(await engine.podman('inspect', 'bp-ftest-onhost-0')) as Array<{
      HostConfig: { NetworkMode: string };
      Config: { Labels: Record<string, string> };
    }>;
    expect(c.HostConfig.NetworkMode).toBe('host');
    expect(c.Config.Labels['bp.port']).toBe(new URL(warmed.endpoint as string).port);
    expect((await hostMode.observe(env, opts())).revisions.onhost).toEqual({ present: true, healthy: true });

    await hostMode.archiveRevision(env, 'onhost', opts());
    expect(await containersOf(engine.podman, 'onhost')).toEqual([]);
    expect((await hostMode.observe(env, opts())).revisions.onhost).toEqual({ present: false, healthy: false });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('top-secret-value');
  });
});
