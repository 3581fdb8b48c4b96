/**
 * The router's control endpoint, on a loopback port of its own: GET /status reports the
 * config the router enforces plus per-backend health and in-flight counts, PUT /config
 * swaps the config in place. A bearer token (handed over in the environment, kept in bp's
 * 0700 state dir) keeps other local users from re-pointing traffic.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { BackendPool } from './backends.js';
import type { RouterConfig, RouterStatus } from './config.js';
import { routerConfigProblems } from './config.js';

const MAX_BODY_BYTES = 1 << 20;

export interface AdminOptions {
  token: string;
  listen: string;
  metricsListen: string;
  log: (message: string) => void;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function routerStatus(pool: BackendPool, listen: string, metricsListen: string): RouterStatus {
  return {
    deployment_id: pool.config.deployment_id,
    listen,
    metrics_listen: metricsListen,
    pid: process.pid,
    config: pool.config,
    backends: pool.status(),
  };
}

export function createAdminServer(pool: BackendPool, opts: AdminOptions): http.Server {
  return http.createServer((req, res) => {
    if (!tokenMatches(req.headers.authorization, opts.token)) return sendJson(res, 401, { error: 'unauthorized' });
    if (req.method === 'GET' && req.url === '/status')
      return sendJson(res, 200, routerStatus(pool, opts.listen, opts.metricsListen));
    if (req.method === 'PUT' && req.url === '/config') {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        let doc: unknown;
        try {
          doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return sendJson(res, 400, { error: 'body is not JSON' });
        }
        const problems = routerConfigProblems(doc);
        if (problems.length > 0) return sendJson(res, 400, { error: problems.join('; ') });
        const config = doc as RouterConfig;
        if (config.deployment_id !== pool.config.deployment_id) {
          return sendJson(res, 409, {
            error: `this router serves "${pool.config.deployment_id}", not "${config.deployment_id}"`,
          });
        }
        pool.apply(config);
        void pool
          .recheckUnhealthy()
          .then(() => sendJson(res, 200, routerStatus(pool, opts.listen, opts.metricsListen)));
        opts.log(
          `config applied: ${config.entries.map((e) => `${e.revision_id}=${e.weight_bps}`).join(' ')}` +
            (config.draining.length ? ` draining=${config.draining.join(',')}` : ''),
        );
      });
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  });
}
