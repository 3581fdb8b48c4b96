/** bp's side of the router admin endpoint. */
import http from 'node:http';
import type { RouterConfig, RouterStatus } from './config.js';

const ADMIN_TIMEOUT_MS = 5000;

export class RouterAdminError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
  }
}

export class RouterAdminClient {
  constructor(private readonly port: number, private readonly token: string) {}

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
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
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
              return reject(new RouterAdminError(`router admin answered non-JSON (${res.statusCode})`, res.statusCode ?? null));
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
      req.on('timeout', () => req.destroy(new RouterAdminError(`router admin did not answer within ${ADMIN_TIMEOUT_MS} ms`, null)));
      req.on('error', (e) => reject(e instanceof RouterAdminError ? e : new RouterAdminError(`router admin unreachable: ${e.message}`, null)));
      req.end(payload);
    });
  }
}
