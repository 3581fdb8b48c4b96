/**
 * The router's metrics listener: `GET /metrics` in Prometheus text format, nothing else.
 * It has no token because it only reads, and it is a listener of its own (not the admin
 * port) so Prometheus can be pointed at it without ever holding the admin token.
 */
import http from 'node:http';
import type { BackendPool } from './backends.js';
import { EXPOSITION_CONTENT_TYPE } from './metrics.js';

export function createMetricsServer(pool: BackendPool): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/metrics') {
      const text = pool.metrics.render(pool.enforcedWeights());
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    const body = 'not found: the metrics listener serves GET /metrics only\n';
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}
