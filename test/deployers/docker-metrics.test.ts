/**
 * Router metrics through the docker deployer against a real engine (podman's Docker API):
 * the router in front of the containers serves /metrics on the deployment's metrics_listen
 * (or a free loopback port), the router record says where, and scrapeMetrics reads it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';
import { parseExposition } from '../../src/rollout/analysis/exposition.js';
import { many, request } from '../router/support.js';
import { cleanupDeployers, deployment, environment, imageRevision, newDeployer, opts } from './docker/fixtures.js';
import { buildTestImage, type PodmanEngine, startPodman } from './docker/podman.js';
import { freePort } from './local-process-fixtures.js';

let engine: PodmanEngine;
let deployer: Deployer;
let stateDir: string;
let port: number;
let image: string;

function env(metricsListen: string | null, v1Bps = 5000): DeployerEnvironment {
  const d = deployment(
    'mweb',
    `127.0.0.1:${port}`,
    [imageRevision('mweb-v1', image), imageRevision('mweb-v2', image)],
    [
      { revision_id: 'mweb-v1', weight_bps: v1Bps },
      { revision_id: 'mweb-v2', weight_bps: 10000 - v1Bps },
    ],
  );
  return environment([{ ...d, metrics_listen: metricsListen }]);
}

const routerRecord = (): { pid: number; metrics_listen: string; metrics_url: string } =>
  JSON.parse(readFileSync(join(stateDir, 'routers', 'mweb', 'router.json'), 'utf8'));

function served(text: string, revisionId: string): number {
  return parseExposition(text)
    .filter((s) => s.name === 'bp_router_requests_total' && s.labels.revision_id === revisionId)
    .reduce((n, s) => n + s.value, 0);
}

beforeAll(async () => {
  engine = await startPodman();
  image = await buildTestImage(engine);
  ({ deployer, stateDir } = await newDeployer({ socket_path: engine.socketPath }));
  port = await freePort();
  for (const id of ['mweb-v1', 'mweb-v2']) {
    await deployer.stageRevision(env(null), id, opts());
    await deployer.warmRevision(env(null), id, opts());
  }
});

afterAll(async () => {
  const down = environment([
    deployment(
      'mweb',
      `127.0.0.1:${port}`,
      [imageRevision('mweb-v1', image, { state: 'archived' }), imageRevision('mweb-v2', image, { state: 'archived' })],
      [],
    ),
  ]);
  for (const id of ['mweb-v1', 'mweb-v2']) await deployer?.archiveRevision(down, id, opts()).catch(() => undefined);
  cleanupDeployers();
  await engine?.stop();
});

describe('docker router metrics', () => {
  it('has no metrics before the router runs', async () => {
    await expect(deployer.scrapeMetrics?.(env(null), 'mweb', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
    });
  });

  it("serves the router metrics of the containers' traffic, and records where", async () => {
    await deployer.applyTrafficSplit(env(null), 'mweb', opts());
    const rec = routerRecord();
    expect(rec.metrics_url).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/metrics$/);
    await many(`http://127.0.0.1:${port}/`, 20, 2);
    const text = (await deployer.scrapeMetrics?.(env(null), 'mweb', opts())) as string;
    expect(served(text, 'mweb-v1')).toBe(10);
    expect(served(text, 'mweb-v2')).toBe(10);
  });

  it('moves the metrics listener when metrics_listen changes', async () => {
    const before = routerRecord();
    const metricsListen = `127.0.0.1:${await freePort()}`;
    await deployer.applyTrafficSplit(env(metricsListen), 'mweb', opts());
    const rec = routerRecord();
    expect(rec.pid).not.toBe(before.pid);
    expect(rec.metrics_url).toBe(`http://${metricsListen}/metrics`);
    expect((await request(rec.metrics_url)).body).toContain(
      'bp_router_weight_bps{deployment_id="mweb",revision_id="mweb-v2"} 5000',
    );
  });
});
