/** Real backends and real traffic for analysis tests: a good stable revision and a flaky, slower canary. */
import http from 'node:http';
import { startBackend, type TestBackend } from '../../router/support.js';
import type { RouterConfig } from '../../../src/router/config.js';

/** Answers 200 "stable" at once. */
export function stableBackend(): Promise<TestBackend> {
  return startBackend((req, res) => res.end(req.url === '/healthz' ? 'ok' : 'stable'));
}

/** Every `failEvery`-th request (counting from 1) answers 500; every answer takes `delayMs`. */
export function canaryBackend(failEvery: number, delayMs: number): Promise<TestBackend> {
  let n = 0;
  return startBackend((req, res) => {
    if (req.url === '/healthz') return res.end('ok');
    n++;
    const fail = n % failEvery === 0;
    setTimeout(() => {
      res.statusCode = fail ? 500 : 200;
      res.end(fail ? 'boom' : 'canary');
    }, delayMs);
  });
}

export function split(stable: TestBackend, canary: TestBackend, canaryBps: number): RouterConfig {
  return {
    deployment_id: 'web',
    draining: [],
    entries: [
      { revision_id: 'web-v1', weight_bps: 10000 - canaryBps, backends: [stable.url], health_path: '/healthz' },
      { revision_id: 'web-v2', weight_bps: canaryBps, backends: [canary.url], health_path: '/healthz' },
    ],
  };
}

/** Sends `n` GETs, `concurrency` at a time, spread over about `spreadMs`; returns the status codes. */
export async function traffic(
  url: string,
  n: number,
  opts: { concurrency?: number; spreadMs?: number } = {},
): Promise<number[]> {
  const concurrency = opts.concurrency ?? 4;
  const gapMs = (opts.spreadMs ?? 0) / Math.max(1, n / concurrency);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const codes: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      codes.push(
        await new Promise<number>((resolve, reject) => {
          http
            .get(url, { agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            })
            .on('error', reject);
        }),
      );
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return codes;
}

export async function scrapeUrl(url: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.text();
}
