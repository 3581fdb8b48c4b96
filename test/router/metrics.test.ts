import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerInvocation } from '../../src/deployers/local-host/node-script.js';
import { parseExposition, type Sample } from '../../src/rollout/analysis/exposition.js';
import type { RouterConfig } from '../../src/router/config.js';
import { freePort, many, request, type RunningRouter, startBackend, startRouter, type TestBackend } from './support.js';

const backends: TestBackend[] = [];
const routers: RunningRouter[] = [];

/** Answers by path: /fail 500, /missing 404, /moved 302, /reset drops the connection, else 200. */
async function backend(name: string): Promise<TestBackend> {
  const b = await startBackend((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') return res.end('ok');
    if (path === '/fail') res.statusCode = 500;
    if (path === '/missing') res.statusCode = 404;
    if (path === '/moved') res.writeHead(302, { location: '/' });
    if (path === '/reset') return req.socket.destroy();
    res.end(name);
  });
  backends.push(b);
  return b;
}

function config(entries: [string, number, string[]][], draining: string[] = []): RouterConfig {
  return {
    deployment_id: 'web',
    draining,
    entries: entries.map(([id, w, urls]) => ({
      revision_id: id,
      weight_bps: w,
      backends: urls,
      health_path: '/healthz',
    })),
  };
}

async function router(cfg: RouterConfig, opts: { metricsListen?: string } = {}): Promise<RunningRouter> {
  const r = await startRouter(cfg, 200, opts);
  routers.push(r);
  return r;
}

async function scrape(r: RunningRouter): Promise<Sample[]> {
  const reply = await request(r.metricsUrl);
  expect(reply.status).toBe(200);
  return parseExposition(reply.body);
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const requestsOf = (s: Sample[], rev: string, cls: string) =>
  value(s, 'bp_router_requests_total', { deployment_id: 'web', revision_id: rev, code_class: cls });

let v1: TestBackend;
let v2: TestBackend;

beforeAll(async () => {
  [v1, v2] = await Promise.all([backend('v1'), backend('v2')]);
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.stop()));
  await Promise.all(backends.map((b) => b.close()));
});

describe('router metrics listener', () => {
  it('serves GET /metrics in text format 0.0.4 on a loopback port of its own, without a token, and 404 for anything else', async () => {
    const r = await router(config([['v1', 10000, [v1.url]]]));
    expect(r.ready.metrics_listen).toMatch(/^127\.0\.0\.1:[0-9]+$/);
    expect(r.metricsUrl).not.toContain(`:${r.port}/`);
    expect((await r.admin.status()).metrics_listen).toBe(r.ready.metrics_listen);

    const reply = await request(r.metricsUrl);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const [name, type] of [
      ['bp_router_requests_total', 'counter'],
      ['bp_router_upstream_errors_total', 'counter'],
      ['bp_router_request_duration_seconds', 'histogram'],
      ['bp_router_weight_bps', 'gauge'],
    ]) {
      expect(reply.body).toContain(`# TYPE ${name} ${type}\n`);
      expect(reply.body).toMatch(new RegExp(`# HELP ${name} \\S`));
    }
    // Every series exists from the start, at zero, so Prometheus' increase() sees the first request.
    const s = parseExposition(reply.body);
    for (const cls of ['2xx', '3xx', '4xx', '5xx']) expect(requestsOf(s, 'v1', cls)).toBe(0);
    expect(value(s, 'bp_router_weight_bps', { revision_id: 'v1' })).toBe(10000);

    const base = r.metricsUrl.replace(/\/metrics$/, '');
    expect((await request(`${base}/status`)).status).toBe(404);
    expect((await request(`${base}/`)).status).toBe(404);
    expect((await request(r.metricsUrl, { method: 'POST' })).status).toBe(404);
    expect((await request(r.metricsUrl, { method: 'HEAD' })).status).toBe(200);
  });

  it('binds the metrics address it is given, and refuses to start when it is taken', async () => {
    const port = await freePort();
    const r = await router(config([['v1', 10000, [v1.url]]]), { metricsListen: `127.0.0.1:${port}` });
    expect(r.metricsUrl).toBe(`http://127.0.0.1:${port}/metrics`);
    expect((await request(r.metricsUrl)).status).toBe(200);

    const inv = routerInvocation();
    const taken = spawnSync(
      inv.command,
      [
        ...inv.args,
        '--listen',
        `127.0.0.1:${await freePort()}`,
        '--config',
        '/dev/null',
        '--ready-file',
        '/dev/null',
        '--metrics-listen',
        `127.0.0.1:${port}`,
      ],
      {
        env: { ...process.env, BP_ROUTER_TOKEN: 't' },
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(taken.status).toBe(1);
    // The config is read first; an unreadable one fails before any socket is bound.
    expect(taken.stdout).toMatch(/fatal: (cannot read config|invalid config)/);

    const dir = mkdtempSync('/tmp/bp-router-metrics-');
    const file = `${dir}/config.json`;
    writeFileSync(file, JSON.stringify(config([['v1', 10000, [v1.url]]])));
    const clash = spawnSync(
      inv.command,
      [
        ...inv.args,
        '--listen',
        `127.0.0.1:${await freePort()}`,
        '--config',
        file,
        '--ready-file',
        `${dir}/ready.json`,
        '--metrics-listen',
        `127.0.0.1:${port}`,
      ],
      {
        env: { ...process.env, BP_ROUTER_TOKEN: 't' },
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(clash.status).toBe(1);
    expect(clash.stdout).toContain(`fatal: metrics listen address 127.0.0.1:${port} is already in use`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('router metrics', () => {
  it('counts responses per revision and status class, with a duration histogram per revision', async () => {
    const r = await router(
      config([
        ['v1', 5000, [v1.url]],
        ['v2', 5000, [v2.url]],
      ]),
    );
    await many(r.url, 40, 4); // 20 + 20 (SWRR is exact over even runs)
    await many(`${r.url}/fail`, 10, 2);
    await many(`${r.url}/missing`, 6, 2);
    await many(`${r.url}/moved`, 4, 2);
    const s = await scrape(r);
    for (const rev of ['v1', 'v2']) {
      expect(requestsOf(s, rev, '2xx')).toBe(20);
      expect(requestsOf(s, rev, '5xx')).toBe(5);
      expect(requestsOf(s, rev, '4xx')).toBe(3);
      expect(requestsOf(s, rev, '3xx')).toBe(2);
      const labels = { deployment_id: 'web', revision_id: rev };
      expect(value(s, 'bp_router_request_duration_seconds_count', labels)).toBe(30);
      expect(value(s, 'bp_router_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(30);
      const sum = value(s, 'bp_router_request_duration_seconds_sum', labels) as number;
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(30 * 10);
      const buckets = s.filter(
        (x) => x.name === 'bp_router_request_duration_seconds_bucket' && x.labels.revision_id === rev,
      );
      expect(buckets.map((b) => b.labels.le)).toEqual([
        '0.005',
        '0.01',
        '0.025',
        '0.05',
        '0.1',
        '0.25',
        '0.5',
        '1',
        '2.5',
        '5',
        '10',
        '+Inf',
      ]);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
      expect(value(s, 'bp_router_upstream_errors_total', labels)).toBe(0);
    }
  });

  it('counts a request the backend dropped as 5xx and as an upstream error, and one no backend could take as unrouted', async () => {
    const r = await router(config([['v1', 10000, [v1.url]]]));
    const replies = await Promise.all(Array.from({ length: 3 }, () => request(`${r.url}/reset`)));
    expect(replies.map((x) => x.status)).toEqual([502, 502, 502]);
    let s = await scrape(r);
    expect(requestsOf(s, 'v1', '5xx')).toBe(3);
    expect(value(s, 'bp_router_upstream_errors_total', { revision_id: 'v1' })).toBe(3);

    const dead = `http://127.0.0.1:${await freePort()}`;
    const r2 = await router(config([['gone', 10000, [dead]]]));
    // Whether the first request meets the refused connection or the health check got there
    // first, each is counted once: a 5xx + upstream error of "gone", or an unrouted request.
    expect((await request(r2.url)).status).toBe(502);
    s = await scrape(r2);
    const refused = requestsOf(s, 'gone', '5xx') as number;
    const unrouted = value(s, 'bp_router_unrouted_requests_total', { deployment_id: 'web' }) as number;
    expect(refused + unrouted).toBe(1);
    expect(value(s, 'bp_router_upstream_errors_total', { revision_id: 'gone' })).toBe(refused);
    while ((await r2.admin.status()).backends[0].healthy) await new Promise((res) => setTimeout(res, 50));
    expect((await request(r2.url)).body).toMatch(/no healthy backend/);
    s = await scrape(r2);
    expect(value(s, 'bp_router_unrouted_requests_total', { deployment_id: 'web' })).toBe(unrouted + 1);
    expect(requestsOf(s, 'gone', '5xx')).toBe(refused);
  });

  it('keeps counters across reconfiguration and reports the enforced weights', async () => {
    const r = await router(
      config([
        ['v1', 9000, [v1.url]],
        ['v2', 1000, [v2.url]],
      ]),
    );
    await many(r.url, 20, 2);
    let s = await scrape(r);
    expect(requestsOf(s, 'v1', '2xx')).toBe(18);
    expect(requestsOf(s, 'v2', '2xx')).toBe(2);
    expect(value(s, 'bp_router_weight_bps', { revision_id: 'v1' })).toBe(9000);

    await r.admin.putConfig(
      config(
        [
          ['v1', 5000, [v1.url]],
          ['v2', 5000, [v2.url]],
        ],
        ['v1'],
      ),
    );
    await many(r.url, 10, 2);
    s = await scrape(r);
    expect(requestsOf(s, 'v1', '2xx')).toBe(18);
    expect(requestsOf(s, 'v2', '2xx')).toBe(12);
    expect(value(s, 'bp_router_weight_bps', { revision_id: 'v1' })).toBe(0); // draining: no new requests
    expect(value(s, 'bp_router_weight_bps', { revision_id: 'v2' })).toBe(5000);

    // A revision dropped from the config keeps its counters (weight 0) until the router restarts.
    await r.admin.putConfig(config([['v2', 10000, [v2.url]]]));
    s = await scrape(r);
    expect(requestsOf(s, 'v1', '2xx')).toBe(18);
    expect(value(s, 'bp_router_weight_bps', { revision_id: 'v1' })).toBe(0);
    expect(value(s, 'bp_router_weight_bps', { revision_id: 'v2' })).toBe(10000);
  });

  it('does not count a request the client abandoned before any response as a response', async () => {
    const slow = await startBackend((req, res) => {
      if (req.url === '/healthz') return res.end('ok');
      setTimeout(() => res.end('late'), 400);
    });
    backends.push(slow);
    const r = await router(config([['slow', 10000, [slow.url]]]));
    await new Promise<void>((resolve) => {
      const req = http.get(`${r.url}/`, { agent: false });
      req.on('error', () => resolve());
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    await new Promise((res) => setTimeout(res, 600));
    const s = await scrape(r);
    expect(value(s, 'bp_router_client_aborts_total', { revision_id: 'slow' })).toBe(1);
    for (const cls of ['2xx', '5xx']) expect(requestsOf(s, 'slow', cls)).toBe(0);
    expect(value(s, 'bp_router_upstream_errors_total', { revision_id: 'slow' })).toBe(0);
  });
});
