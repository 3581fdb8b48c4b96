import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfig } from '../../src/router/config.js';
import {
  binomialTolerance,
  count,
  freePort,
  many,
  request,
  type RunningRouter,
  startBackend,
  startRouter,
  type TestBackend,
} from './support.js';

const backends: TestBackend[] = [];
const routers: RunningRouter[] = [];

async function backend(name: string): Promise<TestBackend> {
  const b = await startBackend((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz') return res.end('ok');
    if (url.pathname === '/headers') return res.end(JSON.stringify(req.headers));
    if (url.pathname === '/slow')
      return void setTimeout(() => res.end(`${name} slow`), Number(url.searchParams.get('ms')));
    if (url.pathname === '/echo') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void req.pipe(res);
    }
    if (url.pathname === '/drip') {
      // First chunk now, the rest later: the router must stream, not buffer.
      res.write('first;');
      return void setTimeout(() => res.end('last'), 300);
    }
    res.end(name);
  });
  b.server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(`${name}:${d.toString()}`));
  });
  backends.push(b);
  return b;
}

function config(entries: [string, number, TestBackend[]][], draining: string[] = []): RouterConfig {
  return {
    deployment_id: 'web',
    draining,
    entries: entries.map(([id, w, bs]) => ({
      revision_id: id,
      weight_bps: w,
      backends: bs.map((b) => b.url),
      health_path: '/healthz',
    })),
  };
}

async function router(cfg: RouterConfig): Promise<RunningRouter> {
  const r = await startRouter(cfg);
  routers.push(r);
  return r;
}

let v1: TestBackend;
let v2: TestBackend;
let v2b: TestBackend;

beforeAll(async () => {
  [v1, v2, v2b] = await Promise.all([backend('v1'), backend('v2'), backend('v2b')]);
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.stop()));
  await Promise.all(backends.map((b) => b.close()));
});

describe('router process', () => {
  it('splits 2,000 requests 90/10 within the binomial bound and spreads replicas evenly', async () => {
    const r = await router(
      config([
        ['v1', 9000, [v1]],
        ['v2', 1000, [v2, v2b]],
      ]),
    );
    const n = 2000;
    const got = count(await many(r.url, n));
    const v2total = (got['200 v2'] ?? 0) + (got['200 v2b'] ?? 0);
    expect(got['200 v1'] + v2total).toBe(n);
    expect(Math.abs(v2total - n * 0.1)).toBeLessThanOrEqual(binomialTolerance(n, 0.1));
    expect(Math.abs((got['200 v2'] ?? 0) - (got['200 v2b'] ?? 0))).toBeLessThanOrEqual(2);
  });

  it('reuses keep-alive connections to backends', async () => {
    const solo = await backend('solo');
    const r = await router(config([['solo', 10000, [solo]]]));
    const before = solo.connections;
    for (let i = 0; i < 50; i++) expect((await request(r.url)).body).toBe('solo');
    // One connection for the requests, plus the health checker's own.
    expect(solo.connections - before).toBeLessThanOrEqual(10);
  });

  it('sets X-Forwarded-* headers and strips hop-by-hop ones', async () => {
    const r = await router(config([['v1', 10000, [v1]]]));
    const reply = await request(`${r.url}/headers`, {
      headers: { 'x-forwarded-for': '10.0.0.9', 'keep-alive': 'timeout=1' },
    });
    const seen = JSON.parse(reply.body) as Record<string, string>;
    expect(seen['x-forwarded-for']).toBe('10.0.0.9, 127.0.0.1');
    expect(seen['x-forwarded-host']).toBe(`127.0.0.1:${r.port}`);
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-port']).toBe(String(r.port));
    expect(seen['keep-alive']).toBeUndefined();
  });

  it('streams request and response bodies', async () => {
    const r = await router(config([['v1', 10000, [v1]]]));
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${r.url}/echo`, { method: 'POST', agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          // The first chunk comes back before the request body is finished: full-duplex streaming.
          if (text === 'part1;') req.end('part2');
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.flushHeaders();
      req.write('part1;');
    });
    expect(echoed).toBe('part1;part2');

    const started = Date.now();
    const firstChunkAt = await new Promise<number>((resolve, reject) => {
      http
        .get(`${r.url}/drip`, { agent: false }, (res) => {
          res.once('data', () => resolve(Date.now() - started));
          res.resume();
        })
        .on('error', reject);
    });
    expect(firstChunkAt).toBeLessThan(250);
  });

  it('passes WebSocket upgrades through both ways', async () => {
    const r = await router(config([['v2', 10000, [v2]]]));
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = http.request(r.url, {
        agent: false,
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('upgrade', (res, socket: net.Socket) => {
        expect(res.statusCode).toBe(101);
        socket.once('data', (d: Buffer) => {
          resolve(d.toString());
          socket.destroy();
        });
        socket.write('ping');
      });
      req.on('error', reject);
      req.end();
    });
    expect(echoed).toBe('v2:ping');
  });

  it('applies new weights without dropping in-flight requests or client connections', async () => {
    const r = await router(
      config([
        ['v1', 10000, [v1]],
        ['v2', 0, [v2]],
      ]),
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await request(r.url, { agent })).body).toBe('v1');
    const slow = request(`${r.url}/slow?ms=800`, { agent: false });
    await new Promise((res) => setTimeout(res, 200));
    const status = await r.admin.putConfig(
      config([
        ['v1', 0, [v1]],
        ['v2', 10000, [v2]],
      ]),
    );
    expect(status.backends.find((b) => b.url === v1.url)?.in_flight).toBe(1);
    // The same keep-alive client connection now reaches v2.
    const after = await request(r.url, { agent });
    expect(after.body).toBe('v2');
    expect((await slow).body).toBe('v1 slow');
    agent.destroy();
  });

  it('reports the enforced config and in-flight counts, and refuses a bad token or bad config', async () => {
    const r = await router(config([['v1', 10000, [v1]]]));
    const status = await r.admin.status();
    expect(status.config.entries.map((e) => [e.revision_id, e.weight_bps])).toEqual([['v1', 10000]]);
    expect(status.backends[0]).toMatchObject({ url: v1.url, revision_id: 'v1', in_flight: 0 });
    const adminPort = (r.admin as unknown as { port: number }).port;
    const denied = await request(`http://127.0.0.1:${adminPort}/status`, { headers: { authorization: 'Bearer nope' } });
    expect(denied.status).toBe(401);
    await expect(r.admin.putConfig({ ...config([['v1', 5000, [v1]]]) })).rejects.toThrow(/sum to 5000/);
  });

  it('fails over from a dead backend and answers a clear 502 when none is healthy', async () => {
    const deadPort = await freePort();
    const dead = { url: `http://127.0.0.1:${deadPort}` } as TestBackend;
    const r = await router(
      config([
        ['v1', 5000, [v1]],
        ['gone', 5000, [dead]],
      ]),
    );
    const bodies = await many(r.url, 40, 4);
    expect(count(bodies)).toEqual({ '200 v1': 40 });

    const r2 = await router(config([['gone', 10000, [dead]]]));
    const reply = await request(r2.url);
    expect(reply.status).toBe(502);
    expect(reply.body).toMatch(/no healthy backend for deployment "web"/);
  });

  it('sends nothing to a draining revision', async () => {
    const r = await router(
      config(
        [
          ['v1', 5000, [v1]],
          ['v2', 5000, [v2]],
        ],
        ['v2'],
      ),
    );
    expect(count(await many(r.url, 20, 2))).toEqual({ '200 v1': 20 });
  });
});
