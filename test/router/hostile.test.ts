/**
 * The router under hostile clients and broken backends, on loopback with bounded counts: slowloris,
 * request smuggling, oversized heads, aborted upgrades, hung backends and a connection flood. Each
 * case asserts the attacker is cut off, other clients keep being served, and in_flight returns to 0.
 * Timeouts are set small through the router's flags; tests wait on socket events, never on sleeps.
 */

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfig } from '../../src/router/config.js';
import {
  count,
  many,
  request,
  type RunningRouter,
  startBackend,
  startRouter,
  type TestBackend,
  waitUntil,
} from './support.js';

const backends: TestBackend[] = [];
const routers: RunningRouter[] = [];
/** Paths the backends saw, to prove a smuggled request never reached one. */
const seen: string[] = [];

const FAST = [
  '--header-timeout-ms',
  '400',
  '--request-timeout-ms',
  '800',
  '--idle-timeout-ms',
  '400',
  '--upstream-timeout-ms',
  '500',
];

function config(revision: string, urls: string[]): RouterConfig {
  return {
    deployment_id: 'web',
    draining: [],
    entries: [{ revision_id: revision, weight_bps: 10000, backends: urls, health_path: '/healthz' }],
  };
}

async function router(cfg: RouterConfig, args: string[] = FAST): Promise<RunningRouter> {
  const r = await startRouter(cfg, 200, { args });
  routers.push(r);
  return r;
}

async function inFlight(r: RunningRouter): Promise<number> {
  return (await r.admin.status()).backends.reduce((n, b) => n + b.in_flight, 0);
}

interface RawResult {
  data: string;
  /** ms from connect to close */
  ms: number;
}

/** Opens a raw connection, writes `chunks` (a function may write more later), resolves on close. */
function raw(port: number, write: (s: net.Socket) => void): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ data, ms: Date.now() - started }));
    s.on('connect', () => write(s));
  });
}

let ok: TestBackend;
let hung: TestBackend;
let upgradeHung: TestBackend;

beforeAll(async () => {
  ok = await startBackend((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  ok.server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(d));
    socket.on('error', () => undefined);
  });
  // Answers its health check, then never answers anything else: not a request, not an upgrade.
  hung = await startBackend((req, res) => {
    if (req.url === '/healthz') res.end('ok');
  });
  upgradeHung = await startBackend((req, res) => {
    if (req.url === '/healthz') res.end('ok');
  });
  upgradeHung.server.on('upgrade', (_req, socket) => socket.on('error', () => undefined));
  backends.push(ok, hung, upgradeHung);
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.stop()));
  await Promise.all(backends.map((b) => b.close()));
});

describe('router under hostile clients', () => {
  it('cuts slowloris clients at the header timeout while serving everyone else', async () => {
    const r = await router(config('v1', [ok.url]));
    // 30 clients that drip a header byte every 50 ms and never finish.
    const attackers = Array.from({ length: 30 }, () =>
      raw(r.port, (s) => {
        s.write('GET / HTTP/1.1\r\nHost: x\r\n');
        const t = setInterval(() => (s.writable ? s.write('X') : clearInterval(t)), 50);
        s.on('close', () => clearInterval(t));
      }),
    );
    // One that connects and says nothing at all.
    const silent = raw(r.port, () => undefined);
    const served = count(await many(r.url, 200, 8));
    expect(served).toEqual({ '200 ok': 200 });
    const cut = await Promise.all([...attackers, silent]);
    for (const c of cut) {
      expect(c.data === '' || c.data.startsWith('HTTP/1.1 408')).toBe(true);
      expect(c.ms).toBeLessThan(5000);
    }
    await waitUntil('in_flight 0', async () => (await inFlight(r)) === 0);
  });

  it('cuts a client that never finishes its body at the request timeout and releases the backend', async () => {
    const r = await router(config('v1', [ok.url]));
    const res = await raw(r.port, (s) =>
      s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789'),
    );
    expect(res.ms).toBeLessThan(5000);
    await waitUntil('in_flight 0', async () => (await inFlight(r)) === 0);
    expect((await request(r.url)).body).toBe('ok');
  });

  it('closes idle keep-alive connections at the idle timeout', async () => {
    const r = await router(config('v1', [ok.url]));
    const res = await raw(r.port, (s) => s.write('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(res.data).toMatch(/^HTTP\/1.1 200/);
    expect(res.ms).toBeLessThan(5000);
  });

  it('answers 504 for a hung backend, naming nothing internal, and returns in_flight to 0', async () => {
    const r = await router(config('secret-rev-42', [hung.url]));
    const replies = await Promise.all(Array.from({ length: 5 }, () => request(`${r.url}/stuck`)));
    for (const reply of replies) {
      expect(reply.status).toBe(504);
      expect(reply.body).not.toContain(hung.url.replace('http://', ''));
      expect(reply.body).not.toContain('secret-rev-42');
    }
    await waitUntil('in_flight 0', async () => (await inFlight(r)) === 0);
    expect(r.log()).toContain('secret-rev-42'); // the operator's log has the details
  });

  it('answers 502 without the backend address or revision id', async () => {
    const dead = await startBackend((_q, s) => s.end());
    const url = dead.url;
    await dead.close();
    const r = await router(config('secret-rev-43', [url]));
    const reply = await request(r.url);
    expect(reply.status).toBe(502);
    expect(reply.body).not.toContain(url.replace('http://', ''));
    expect(reply.body).not.toContain('secret-rev-43');
  });

  it('answers 431 to an oversized request head', async () => {
    const r = await router(config('v1', [ok.url]), [...FAST, '--max-header-bytes', '4096']);
    const reply = await raw(r.port, (s) => s.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`));
    expect(reply.data).toMatch(/^HTTP\/1.1 431 /);
    expect((await request(r.url)).body).toBe('ok');
  });

  it('refuses request-smuggling variants with 400 and never forwards the smuggled request', async () => {
    const r = await router(config('v1', [ok.url]));
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
    const variants = [
      // CL.TE: a front end trusting Content-Length would forward the smuggled request as body.
      `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      // Two different Content-Lengths.
      `POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
      // A chunk size that is not hex.
      `POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${smuggled}\r\n0\r\n\r\n`,
      // An obfuscated Transfer-Encoding.
      `POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc${smuggled}`,
    ];
    for (const v of variants) {
      const reply = await raw(r.port, (s) => s.write(v));
      expect(reply.data).toMatch(/HTTP\/1.1 400 /);
    }
    expect(seen).not.toContain('/smuggled');
    await waitUntil('in_flight 0', async () => (await inFlight(r)) === 0);
    expect((await request(r.url)).body).toBe('ok');
  });

  it('releases in_flight for upgrades aborted at every stage', async () => {
    const r = await router(config('v1', [upgradeHung.url]));
    const head = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    // 20 clients give up before the (hung) backend answers the handshake.
    const aborted = Array.from({ length: 20 }, () =>
      raw(r.port, (s) => {
        s.write(head);
        setImmediate(() => s.end());
      }),
    );
    await Promise.all(aborted);
    await waitUntil('in_flight 0 after aborted handshakes', async () => (await inFlight(r)) === 0);
    // A client that waits gets a 504 once the handshake deadline passes.
    const waited = await raw(r.port, (s) => s.write(head));
    expect(waited.data).toMatch(/^HTTP\/1.1 504 /);
    await waitUntil('in_flight 0 after a hung handshake', async () => (await inFlight(r)) === 0);

    // Established tunnels closed abruptly by the client.
    const r2 = await router(config('v1', [ok.url]));
    const tunnels = Array.from({ length: 20 }, () =>
      raw(r2.port, (s) => {
        s.write(head);
        s.once('data', () => s.destroy());
      }),
    );
    await Promise.all(tunnels);
    await waitUntil('in_flight 0 after closed tunnels', async () => (await inFlight(r2)) === 0);
  });

  it('refuses connections beyond the cap and serves again once they leave', async () => {
    const r = await router(config('v1', [ok.url]), [
      ...FAST,
      '--max-connections',
      '4',
      '--header-timeout-ms',
      '5000',
      '--request-timeout-ms',
      '5000',
    ]);
    const holders: net.Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const s = net.connect(r.port, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise((res) => s.on('connect', res));
      s.write('GET / HTTP/1.1\r\n'); // an unfinished head keeps the connection busy
      holders.push(s);
    }
    const refused = await raw(r.port, (s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(refused.data).toBe('');
    for (const s of holders) s.destroy();
    await waitUntil('a request served after the flood', async () => {
      try {
        return (await request(r.url)).body === 'ok';
      } catch {
        return false;
      }
    });
  });

  it('rejects a malformed limit flag naming the flag and its range', async () => {
    await expect(
      startRouter(config('v1', [ok.url]), 200, { args: ['--upstream-timeout-ms', '99999999999'] }),
    ).rejects.toThrow(/--upstream-timeout-ms must be an integer 1\.\.2147483647/);
  });
});
