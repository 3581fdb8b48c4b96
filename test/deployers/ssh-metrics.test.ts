/**
 * Router metrics through the ssh deployer, against two real OpenSSH servers on loopback:
 * each host's router serves /metrics, scrapeMetrics reads every host through the SSH
 * connections and labels samples by host, and a metrics_listen change restarts the routers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeHostExpositions } from '../../src/deployers/ssh/metrics.js';
import type { SshDeployer } from '../../src/deployers/ssh/deployer.js';
import type { DeployerEnvironment } from '../../src/model/deployer.js';
import { openWindow } from '../../src/rollout/analysis/index.js';
import { parseExposition } from '../../src/rollout/analysis/exposition.js';
import { many, request } from '../router/support.js';
import { deployment, environment, opts, revision } from './local-process-fixtures.js';
import { type Lab, startLab } from './ssh/fixtures.js';
import { freePort } from './ssh/sshd.js';

let lab: Lab;
let deployer: SshDeployer;
let port: number;
let base: string;

const v1 = revision('web-v1');
const v2 = revision('web-v2');

function env(id: string, metricsListen: string | null, listenPort = port): DeployerEnvironment {
  const d = deployment(
    id,
    `127.0.0.1:${listenPort}`,
    [
      { ...v1, revision_id: `${id}-v1` },
      { ...v2, revision_id: `${id}-v2` },
    ],
    [
      { revision_id: `${id}-v1`, weight_bps: 5000 },
      { revision_id: `${id}-v2`, weight_bps: 5000 },
    ],
  );
  return environment([{ ...d, metrics_listen: metricsListen }], base);
}

function routerRec(host: number, deploymentId: string): string[] {
  return readFileSync(join(lab.remoteDirs[host], 'test', '_routers', deploymentId, 'router.rec'), 'utf8')
    .trim()
    .split(' ');
}

function requestsBy(text: string, deploymentId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of parseExposition(text)) {
    if (s.name !== 'bp_router_requests_total' || s.labels.deployment_id !== deploymentId) continue;
    const key = `${s.labels.host} ${s.labels.revision_id}`;
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

beforeAll(async () => {
  lab = await startLab(2);
  port = await freePort();
  base = lab.appDir();
  deployer = await lab.deployer();
  const e = env('web', null);
  for (const id of ['web-v1', 'web-v2']) {
    await deployer.stageRevision(e, id, opts());
    await deployer.warmRevision(e, id, opts());
  }
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

describe('ssh deployer router metrics', () => {
  it('has no metrics before the routers run', async () => {
    await expect(deployer.scrapeMetrics(env('web', null), 'web', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
      message: expect.stringMatching(/no running router on any host/),
    });
  });

  it("reads every host's router metrics through SSH, one host label per router", async () => {
    await deployer.applyTrafficSplit(env('web', null), 'web', opts());
    for (const h of [0, 1]) {
      const rec = routerRec(h, 'web');
      expect(rec[5]).toMatch(/^127\.0\.0\.1:[0-9]+$/); // a free loopback port on the host
      expect(rec[6]).toBe('-');
    }
    await many(`http://127.0.0.2:${port}/`, 20, 2); // host 0's router only
    const text = await deployer.scrapeMetrics(env('web', null), 'web', opts());
    const [h0, h1] = lab.config().hosts.map((h) => `root@127.0.0.1:${h.port}`);
    expect(requestsBy(text, 'web')).toEqual({
      [`${h0} web-v1`]: 10,
      [`${h0} web-v2`]: 10,
      [`${h1} web-v1`]: 0,
      [`${h1} web-v2`]: 0,
    });
    // One family header each, even with two hosts.
    expect(text.match(/# TYPE bp_router_requests_total counter/g)).toHaveLength(1);
  });

  it('feeds a router analysis across hosts', async () => {
    const target = {
      environmentId: 'test',
      deploymentId: 'web',
      revisionId: 'web-v2',
      scrape: (signal: AbortSignal) => deployer.scrapeMetrics(env('web', null), 'web', { signal }),
    };
    const w = await openWindow(
      { metric: 'success_rate', min: 0.99, interval: '1s', count: 1, provider: 'router' },
      target,
      opts().signal,
    );
    await many(`http://127.0.0.2:${port}/`, 10, 2);
    await many(`http://127.0.0.3:${port}/`, 10, 2);
    const m = await w.finish(opts().signal);
    expect(m).toMatchObject({ value: 1, verdict: 'pass' });
    expect(m.detail).toContain('(10 of 10 requests succeeded)');
  });

  it('binds a given metrics_listen and restarts the router when it changes', async () => {
    // Both "hosts" are this machine, so a fixed metrics address is tried with a one-host deployer.
    const single = await lab.deployer(lab.config({ hosts: [lab.hostConfig(0)] }));
    const metricsPort = await freePort();
    const apiPort = await freePort();
    const e = env('api', null, apiPort);
    for (const id of ['api-v1', 'api-v2']) {
      await single.stageRevision(e, id, opts());
      await single.warmRevision(e, id, opts());
    }
    await single.applyTrafficSplit(e, 'api', opts());
    const before = routerRec(0, 'api');
    const fixed = env('api', `127.0.0.1:${metricsPort}`, apiPort);
    await single.applyTrafficSplit(fixed, 'api', opts());
    const after = routerRec(0, 'api');
    expect(after[0]).not.toBe(before[0]);
    expect(after.slice(5)).toEqual([`127.0.0.1:${metricsPort}`, `127.0.0.1:${metricsPort}`]);
    expect((await request(`http://127.0.0.1:${metricsPort}/metrics`)).body).toContain(
      'bp_router_weight_bps{deployment_id="api",revision_id="api-v2"} 5000',
    );
    await single.applyTrafficSplit(fixed, 'api', opts());
    expect(routerRec(0, 'api')[0]).toBe(after[0]);
    await expect(single.applyTrafficSplit(env('api', 'bad', apiPort), 'api', opts())).rejects.toThrow(
      /invalid metrics_listen "bad"/,
    );
  });
});

describe('mergeHostExpositions', () => {
  it('labels every sample with its host and keeps one HELP/TYPE per family', () => {
    const text =
      '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 1\n# HELP b B.\n# TYPE b gauge\nb 2\nc{} 3\n';
    const merged = mergeHostExpositions([
      { host: 'h"1', text },
      { host: 'h2', text },
    ]);
    expect(merged).toBe(
      [
        '# HELP a_total A.',
        '# TYPE a_total counter',
        'a_total{host="h\\"1",x="1"} 1',
        'a_total{host="h2",x="1"} 1',
        '# HELP b B.',
        '# TYPE b gauge',
        'b{host="h\\"1"} 2',
        'c{host="h\\"1"} 3',
        'b{host="h2"} 2',
        'c{host="h2"} 3',
        '',
      ].join('\n'),
    );
    expect(parseExposition(merged)).toHaveLength(6);
  });
});
