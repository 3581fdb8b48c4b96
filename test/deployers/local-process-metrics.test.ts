/**
 * Router metrics through the local-process deployer, with real processes: the router it
 * starts serves /metrics on a free loopback port or on the deployment's metrics_listen,
 * scrapeMetrics reads it, a metrics_listen change restarts the router, a split change does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';
import { BpError } from '../../src/model/errors.js';
import { parseExposition } from '../../src/rollout/analysis/exposition.js';
import { many, request } from '../router/support.js';
import {
  deployment,
  environment,
  freePort,
  killAll,
  newDeployer,
  newStateDir,
  opts,
  recordedPids,
  revision,
} from './local-process-fixtures.js';

const stateDir = newStateDir();
const seenPids = new Set<number>();
let deployer: Deployer;
let listen: string;

const v1 = revision('web-v1');
const v2 = revision('web-v2');

function env(metricsListen: string | null, v1Bps: number): DeployerEnvironment {
  const d = deployment(
    'web',
    listen,
    [v1, v2],
    [
      { revision_id: 'web-v1', weight_bps: v1Bps },
      { revision_id: 'web-v2', weight_bps: 10000 - v1Bps },
    ],
  );
  return environment([{ ...d, metrics_listen: metricsListen }]);
}

function routerRecord(): {
  pid: number;
  metrics_listen: string;
  metrics_url: string;
  metrics_listen_requested: string | null;
} {
  return JSON.parse(readFileSync(join(stateDir, 'routers', 'web', 'router.json'), 'utf8'));
}

function served(text: string, revisionId: string): number {
  return parseExposition(text)
    .filter(
      (s) =>
        s.name === 'bp_router_requests_total' &&
        s.labels.deployment_id === 'web' &&
        s.labels.revision_id === revisionId,
    )
    .reduce((n, s) => n + s.value, 0);
}

beforeAll(async () => {
  listen = `127.0.0.1:${await freePort()}`;
  deployer = await newDeployer(stateDir);
  await deployer.warmRevision(env(null, 5000), 'web-v1', opts());
  await deployer.warmRevision(env(null, 5000), 'web-v2', opts());
  for (const pid of recordedPids(stateDir)) seenPids.add(pid);
});

afterAll(() => {
  for (const pid of recordedPids(stateDir)) seenPids.add(pid);
  killAll(seenPids);
});

describe('local-process router metrics', () => {
  it('has no metrics before the deployment has a router: a non-retryable provider error', async () => {
    const e = await deployer.scrapeMetrics?.(env(null, 5000), 'web', opts()).catch((x: unknown) => x);
    expect(BpError.is(e)).toBe(true);
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect((e as Error).message).toBe(
      'deployment "web" has no running router, so it has no metrics to read; apply its traffic split first',
    );
  });

  it('starts the router with metrics on a free loopback port, records the URL, and scrapes it', async () => {
    await deployer.applyTrafficSplit(env(null, 5000), 'web', opts());
    for (const pid of recordedPids(stateDir)) seenPids.add(pid);
    const rec = routerRecord();
    expect(rec.metrics_listen_requested).toBeNull();
    expect(rec.metrics_listen).toMatch(/^127\.0\.0\.1:[0-9]+$/);
    expect(rec.metrics_url).toBe(`http://${rec.metrics_listen}/metrics`);
    expect((await request(rec.metrics_url)).status).toBe(200);

    await many(`http://${listen}/`, 20, 2);
    const text = (await deployer.scrapeMetrics?.(env(null, 5000), 'web', opts())) as string;
    expect(served(text, 'web-v1')).toBe(10);
    expect(served(text, 'web-v2')).toBe(10);
    expect(text).toContain('bp_router_weight_bps{deployment_id="web",revision_id="web-v2"} 5000');
  });

  it('keeps the router (and its counters) when only the split changes', async () => {
    const before = routerRecord();
    await deployer.applyTrafficSplit(env(null, 9000), 'web', opts());
    expect(routerRecord().pid).toBe(before.pid);
    expect(routerRecord().metrics_listen).toBe(before.metrics_listen);
    await many(`http://${listen}/`, 10, 1);
    const text = (await deployer.scrapeMetrics?.(env(null, 9000), 'web', opts())) as string;
    expect(served(text, 'web-v1')).toBe(19);
    expect(served(text, 'web-v2')).toBe(11);
  });

  it('restarts the router on the new address when metrics_listen changes', async () => {
    const before = routerRecord();
    const metricsListen = `127.0.0.1:${await freePort()}`;
    await deployer.applyTrafficSplit(env(metricsListen, 9000), 'web', opts());
    for (const pid of recordedPids(stateDir)) seenPids.add(pid);
    const rec = routerRecord();
    expect(rec.pid).not.toBe(before.pid);
    expect(rec.metrics_listen).toBe(metricsListen);
    expect(rec.metrics_url).toBe(`http://${metricsListen}/metrics`);
    const text = (await request(rec.metrics_url)).body;
    // A new router process: its counters start again from zero.
    expect(served(text, 'web-v1')).toBe(0);
    expect((await request(`http://${listen}/`)).status).toBe(200);
    expect(served((await deployer.scrapeMetrics?.(env(metricsListen, 9000), 'web', opts())) as string, 'web-v1')).toBe(
      1,
    );

    // Applying the same address again is not a change.
    await deployer.applyTrafficSplit(env(metricsListen, 9000), 'web', opts());
    expect(routerRecord().pid).toBe(rec.pid);
  });

  it('refuses a malformed metrics_listen before touching the router', async () => {
    const pid = routerRecord().pid;
    await expect(deployer.applyTrafficSplit(env('nope', 9000), 'web', opts())).rejects.toThrow(
      /invalid metrics_listen "nope"; expected HOST:PORT/,
    );
    expect(routerRecord().pid).toBe(pid);
  });

  it('has no metrics once the deployment is torn down', async () => {
    const down = environment([
      {
        ...deployment(
          'web',
          listen,
          [
            { ...v1, state: 'archived' },
            { ...v2, state: 'archived' },
          ],
          [],
        ),
        metrics_listen: null,
      },
    ]);
    // As the engine does: the deployment's routing is released before its last revision is archived.
    await deployer.releaseRouting?.(down, 'web', opts());
    await deployer.archiveRevision(down, 'web-v1', opts());
    await deployer.archiveRevision(down, 'web-v2', opts());
    await expect(deployer.scrapeMetrics?.(down, 'web', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
    });
  });
});
