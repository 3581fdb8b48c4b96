/**
 * HTTP through the SSH connection: health probes and router admin calls reach the host's
 * loopback over a direct-tcpip channel, so no replica or admin port is ever exposed.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { SshConnection } from './connection.js';

export interface TunnelResponse {
  status: number;
  body: string;
}

export interface TunnelRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

const noop = (): void => undefined;

/** http.ClientRequest expects a net.Socket; an SSH channel lacks only these no-op knobs. */
function asSocket(stream: NodeJS.ReadWriteStream): Socket {
  const s = stream as unknown as Record<string, unknown>;
  for (const name of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref']) s[name] = noop;
  s.destroySoon = s.destroy;
  return stream as unknown as Socket;
}

export async function tunnelRequest(
  conn: SshConnection,
  host: string,
  port: number,
  req: TunnelRequest,
): Promise<TunnelResponse> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${req.timeoutMs} ms`)), req.timeoutMs);
  });
  timeout.catch(noop); // settles after the race may be over: never an unhandled rejection
  const channel = conn.forward(host, port);
  channel.catch(noop);
  try {
    const stream = await Promise.race([channel, timeout]);
    const answer = new Promise<TunnelResponse>((resolve, reject) => {
      const r = http.request(
        {
          method: req.method,
          path: req.path,
          host,
          port,
          agent: false,
          headers: {
            connection: 'close',
            ...req.headers,
            ...(req.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(req.body)) }),
          },
          createConnection: () => asSocket(stream),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(req.body);
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      stream.destroy();
    }
  } finally {
    clearTimeout(timer);
    channel.then((s) => s.destroy(), noop);
  }
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** GET `path` on the host's `host:port`; healthy means any 2xx. Never throws. */
export async function tunnelProbe(
  conn: SshConnection,
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    const res = await tunnelRequest(conn, host, port, { method: 'GET', path, timeoutMs });
    return { ok: res.status >= 200 && res.status < 300, detail: `${path} answered ${res.status}` };
  } catch (e) {
    return { ok: false, detail: `${path}: ${(e as Error).message}` };
  }
}
