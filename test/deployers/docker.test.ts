/**
 * The docker deployer end to end against a real engine (podman's Docker API), in the default
 * bridge mode: two revisions (one with two replicas) as labelled containers published on
 * loopback, a 90/10 split through the router, drift from outside and healing, promotion with
 * requests in flight, drain, archive, destroy, and nothing left on the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';
import { binomialTolerance, count, many, request } from '../router/support.js';
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
import { freePort, isListening } from './local-process-fixtures.js';

let engine: PodmanEngine;
let deployer: Deployer;
let port: number;
let canary: DeployerEnvironment;
let promoted: DeployerEnvironment;
let destroyed: DeployerEnvironment;

beforeAll(async () => {
  engine = await startPodman();
  const image = await buildTestImage(engine);
  ({ deployer } = await newDeployer({ socket_path: engine.socketPath }));
  port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const v1 = imageRevision('web-v1', image, { resources: { cpu: 0.5, memory_mb: 64, replicas: 2, gpu: 0 } });
  const v2 = imageRevision('web-v2', image, {
    artifact: { image, env: { VERSION: 'web-v2', API_TOKEN: 'secret-value' } },
  });
  canary = environment([
    deployment(
      'web',
      listen,
      [v1, v2],
      [
        { revision_id: 'web-v1', weight_bps: 9000 },
        { revision_id: 'web-v2', weight_bps: 1000 },
      ],
    ),
  ]);
  promoted = environment([
    deployment('web', listen, [{ ...v1, state: 'archived' }, v2], [{ revision_id: 'web-v2', weight_bps: 10000 }]),
  ]);
  destroyed = environment([
    deployment(
      'web',
      listen,
      [
        { ...v1, state: 'archived' },
        { ...v2, state: 'archived' },
      ],
      [],
    ),
  ]);
});

afterAll(async () => {
  cleanupDeployers();
  await engine?.stop();
});

const web = (path = '/') => `http://127.0.0.1:${port}${path}`;

describe('docker deployer (bridge network, published loopback ports)', () => {
  it('stages by finding the image on the engine', async () => {
    const staged = await deployer.stageRevision(canary, 'web-v1', opts());
    expect(staged.outputs).toMatchObject({
      image: expect.stringContaining('bp-test-server'),
      image_id: expect.stringMatching(/[0-9a-f]{64}/),
    });
  });

  it('warms labelled, limited containers published on loopback, and a second warm changes nothing', async () => {
    const w1 = await deployer.warmRevision(canary, 'web-v1', opts());
    const w2 = await deployer.warmRevision(canary, 'web-v2', opts());
    const backends = w1.outputs?.backends as string[];
    expect(backends).toHaveLength(2);
    for (const url of backends) {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await request(url)).body).toBe('web-v1\n');
    }
    expect((await request(`${w2.endpoint}/healthz`)).body).toBe('web-v2\n');

    const [c] = JSON.parse(await engine.podman('inspect', 'bp-dtest-web-v1-0')) as Array<{
      Config: { Labels: Record<string, string> };
      HostConfig: {
        NanoCpus: number;
        Memory: number;
        RestartPolicy: { Name: string };
        PortBindings: Record<string, Array<{ HostIp: string }>>;
      };
    }>;
    expect(c.Config.Labels).toMatchObject({
      'bp.environment': 'dtest',
      'bp.deployment': 'web',
      'bp.revision': 'web-v1',
      'bp.replica': '0',
    });
    expect(c.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 64 * 1024 * 1024,
      RestartPolicy: { Name: 'unless-stopped' },
    });
    expect(c.HostConfig.PortBindings['8080/tcp'][0].HostIp).toBe('127.0.0.1');

    const again = await deployer.warmRevision(canary, 'web-v1', opts());
    expect(again.endpoint).toBe(w1.endpoint);
    expect(again.outputs?.container_ids).toEqual(w1.outputs?.container_ids);
    expect((await containersOf(engine.podman)).map((x) => `${x.name} ${x.state}`)).toEqual([
      'bp-dtest-web-v1-0 running',
      'bp-dtest-web-v1-1 running',
      'bp-dtest-web-v2-0 running',
    ]);
  });

  it('routes 90/10 through the router on listen, as observed from the router and the engine', async () => {
    const applied = await deployer.applyTrafficSplit(canary, 'web', opts());
    expect(applied).toEqual({ applied_deployment_id: 'web', applied_entries: canary.deployments[0].traffic });
    const n = 400;
    const got = count(await many(web(), n, 8));
    expect(got['200 web-v1'] + got['200 web-v2']).toBe(n);
    expect(Math.abs(got['200 web-v2'] - n * 0.1)).toBeLessThanOrEqual(binomialTolerance(n, 0.1));
    expect(await deployer.observe(canary, opts())).toEqual({
      revisions: { 'web-v1': { present: true, healthy: true }, 'web-v2': { present: true, healthy: true } },
      splits: { web: canary.deployments[0].traffic },
    });
  });

  it('shows containers removed or stopped outside bp as drift, and the next warm heals them', async () => {
    await engine.podman('rm', '--force', '--time', '0', 'bp-dtest-web-v2-0');
    await engine.podman('stop', '--time', '0', 'bp-dtest-web-v1-1');
    const drift = await deployer.observe(canary, opts());
    expect(drift.revisions['web-v2']).toEqual({ present: false, healthy: false });
    expect(drift.revisions['web-v1']).toEqual({ present: true, healthy: false });

    await deployer.warmRevision(canary, 'web-v1', opts());
    const healed = await deployer.warmRevision(canary, 'web-v2', opts());
    expect((await deployer.observe(canary, opts())).revisions).toEqual({
      'web-v1': { present: true, healthy: true },
      'web-v2': { present: true, healthy: true },
    });
    // The router was told the healed container's new port: traffic reaches it at once.
    expect(healed.outputs?.backends).toHaveLength(1);
    expect(await many(web(), 30, 2)).toContain('200 web-v2');
  });

  it('reports a labelled container started outside bp, so an unmanaged revision is visible', async () => {
    await engine.podman(
      'run',
      '--detach',
      '--name',
      'rogue',
      '--label',
      'bp.environment=dtest',
      '--label',
      'bp.deployment=web',
      '--label',
      'bp.revision=web-rogue',
      '--label',
      'bp.replica=0',
      'localhost/bp-test-server:1',
    );
    try {
      expect((await deployer.observe(canary, opts())).revisions['web-rogue']).toMatchObject({ present: true });
    } finally {
      await engine.podman('rm', '--force', '--time', '0', 'rogue');
    }
  });

  it('promotes with requests in flight: they complete, then the old revision is drained, stopped and archived', async () => {
    const slow = Array.from({ length: 6 }, () => request(web('/cgi-bin/slow')));
    await new Promise((r) => setTimeout(r, 300));
    await deployer.applyTrafficSplit(promoted, 'web', opts());
    const started = Date.now();
    await deployer.drainRevision(promoted, 'web-v1', opts());
    const replies = await Promise.all(slow);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(replies.filter((r) => r.body === 'slow web-v1\n').length).toBeGreaterThanOrEqual(4);
    // The drain waited for those requests (~1.2 s left) rather than cutting them off.
    expect(Date.now() - started).toBeGreaterThan(700);
    expect((await containersOf(engine.podman, 'web-v1')).map((c) => c.state)).toEqual(['exited', 'exited']);
    await deployer.drainRevision(promoted, 'web-v1', opts()); // already stopped (304) is success

    await deployer.archiveRevision(promoted, 'web-v1', opts());
    await deployer.archiveRevision(promoted, 'web-v1', opts());
    expect(await containersOf(engine.podman, 'web-v1')).toEqual([]);
    expect(count(await many(web(), 40, 4))).toEqual({ '200 web-v2': 40 });
    const seen = await deployer.observe(promoted, opts());
    expect(seen.revisions['web-v1']).toEqual({ present: false, healthy: false });
    expect(seen.splits.web).toEqual([{ revision_id: 'web-v2', weight_bps: 10000 }]);
  });

  it('destroy archives everything and releases the router: nothing left on the engine or the port', async () => {
    await deployer.drainRevision(destroyed, 'web-v2', opts());
    await deployer.archiveRevision(destroyed, 'web-v2', opts());
    // bp's engine releases the routing right before archiving the last revision (docs/design.md#traffic-rules).
    await deployer.releaseRouting!(destroyed, 'web', opts());
    await deployer.archiveRevision(destroyed, 'web-v1', opts());
    await deployer.archiveRevision(destroyed, 'web-v2', opts());
    expect(await containersOf(engine.podman)).toEqual([]);
    expect(await isListening(port)).toBe(false);
    expect(await deployer.observe(destroyed, opts())).toEqual({
      revisions: { 'web-v1': { present: false, healthy: false }, 'web-v2': { present: false, healthy: false } },
      splits: {},
    });
  });
});
