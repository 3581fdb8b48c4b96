/** bp's side of the router admin endpoint. */
import http from 'node:http';
import type { RouterConfig, RouterStatus } from './config.js';

const ADMIN_TIMEOUT_MS = 5000;

export class RouterAdminError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export class RouterAdminClient {
  constructor(
    private readonly port: number,
    private readonly token: string,
  ) {}

  status(): Promise<RouterStatus> {
    return this.call('GET', '/status') as Promise<RouterStatus>;
  }

  putConfig(config: RouterConfig): Promise<RouterStatus> {
    return this.call('PUT', '/config', config) as Promise<RouterStatus>;
  }

  private call(method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: false,
          timeout: ADMIN_TIMEOUT_MS,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let doc: unknown;
            try {
              doc = JSON.parse(text);
            } catch {
              return reject(
                new RouterAdminError(`router admin answered non-JSON (${res.statusCode})`, res.statusCode ?? null),
              );
            }
            if (res.statusCode !== 200) {
              const why = (doc as { error?: string }).error ?? `status ${res.statusCode}`;
              return reject(new RouterAdminError(`router admin ${method} ${path}: ${why}`, res.statusCode ?? null));
            }
            resolve(doc);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new RouterAdminError(`router admin did not answer within ${ADMIN_TIMEOUT_MS} ms`, null)),
      );
      req.on('error', (e) =>
        reject(
          e instanceof RouterAdminError ? e : new RouterAdminError(`router admin unreachable: ${e.message}`, null),
        ),
      );
      req.end(payload);
    });
  }
}

const METRICS_TIMEOUT_MS = 5000;

/** Where to connect to reach a listener bound to `host` (a wildcard bind is reachable on loopback). */
export function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host.replace(/^\[|\]$/g, '');
}

/** `http://HOST:PORT/metrics` for a metrics listener bound to `listen` (HOST:PORT as the router reports it). */
export function metricsUrl(listen: string): string {
  const m = /^(?:\[(.*)\]|(.*)):([0-9]+)$/.exec(listen);
  const host = connectHost(m ? (m[1] ?? m[2]) : '127.0.0.1');
  return `http://${host.includes(':') ? `[${host}]` : host}:${m ? m[3] : '0'}/metrics`;
}

/** GET /metrics from a router's metrics listener; rejects with a RouterAdminError saying why. */
export function fetchMetrics(url: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: METRICS_TIMEOUT_MS, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200)
          return reject(new RouterAdminError(`${url} answered ${res.statusCode}`, res.statusCode ?? null));
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(new RouterAdminError(`${url} did not answer within ${METRICS_TIMEOUT_MS} ms`, null)),
    );
    req.on('error', (e) =>
      reject(
        e instanceof RouterAdminError
          ? e
          : new RouterAdminError(`${url} is unreachable: ${(e as NodeJS.ErrnoException).code ?? e.message}`, null),
      ),
    );
  });
}
