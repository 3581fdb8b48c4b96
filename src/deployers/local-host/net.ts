/** Small network helpers: a free port, and an HTTP health probe. */
import http from 'node:http';
import net from 'node:net';

/**
 * A port that was free a moment ago. The kernel may hand it out again before the child
 * binds it; the health wait catches that and the replica is replaced on the next warm.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.on('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** GET `path`; healthy means any 2xx within `timeoutMs`. */
export function probe(url: string, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = http.get(new URL(path, url), { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve({ ok: code >= 200 && code < 300, detail: `${path} answered ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, detail: `${path}: ${e.code ?? e.message}` }));
  });
}
