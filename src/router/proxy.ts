/**
 * The data path: an HTTP/1.1 reverse proxy that streams bodies both ways, reuses
 * keep-alive connections to backends, passes WebSocket (any `Upgrade`) through, and
 * answers 502 when no healthy backend is left, 504 when a backend hangs. Every response is
 * recorded against the revision that served it (metrics.ts); upgrades are not.
 *
 * Clients are untrusted: every wait is bounded (limits.ts), and error bodies say what went
 * wrong without naming anything internal (backend addresses, revision ids); the router's
 * log has the details.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Backend, BackendPool } from './backends.js';
import { DEFAULT_LIMITS, type RouterLimits } from './limits.js';

/** RFC 9110 section 7.6.1: meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Errors that prove the backend never saw the request, so sending it elsewhere is safe. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function connectionTokens(headers: http.IncomingHttpHeaders): Set<string> {
  const raw = headers.connection;
  return new Set(
    (raw ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

function stripHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = connectionTokens(headers);
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** The router is the edge: it appends to X-Forwarded-For and sets host, proto and port itself. */
function requestHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const out = stripHopByHop(req.headers);
  const client = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  out['x-forwarded-proto'] = 'http';
  out['x-forwarded-port'] = String(req.socket.localPort ?? '');
  return out;
}

function hasBody(req: http.IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

export interface ProxyOptions {
  deploymentId: string;
  log: (message: string) => void;
  limits?: RouterLimits;
}

/** The error an upstream request is destroyed with when the backend stays silent too long. */
const UPSTREAM_TIMEOUT = 'BP_UPSTREAM_TIMEOUT';

function upstreamTimeout(ms: number): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`no answer within ${ms} ms`);
  e.code = UPSTREAM_TIMEOUT;
  return e;
}

/** What a client is told: the status and a generic reason, nothing about the backends behind it. */
function clientBody(status: number): string {
  if (status === 504) return 'bp router: the backend did not answer in time\n';
  return 'bp router: the backend failed to answer\n';
}

export function createProxyServer(pool: BackendPool, opts: ProxyOptions): http.Server {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const server = http.createServer({
    keepAliveTimeout: limits.idleTimeoutMs,
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    // How often Node looks for connections past their header/request deadline: a fraction of the
    // shortest bound, so a slowloris socket is cut close to its deadline.
    connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(limits.headerTimeoutMs / 4))),
  });
  server.maxConnections = limits.maxConnections;
  let lastNoBackendLog = 0;
  const noBackend = (): string => {
    // Once a second at most: a flood of requests while every backend is down must not flood the log.
    if (Date.now() - lastNoBackendLog >= 1000) {
      lastNoBackendLog = Date.now();
      const revisions = pool.config.entries.map((e) => `${e.revision_id}=${e.weight_bps}bps`).join(', ') || 'none';
      opts.log(`no healthy backend (revisions: ${revisions})`);
    }
    return `bp router: no healthy backend for deployment "${opts.deploymentId}"\n`;
  };

  const badGateway = (res: http.ServerResponse, body: string, status = 502): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  /** `startedAt`: performance.now() when the request arrived, for the duration histogram. */
  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    backend: Backend,
    retry: boolean,
    startedAt: number,
  ): void => {
    const release = backend.acquire();
    // Set when this attempt hands the request to another backend, which then records it.
    let handedOver = false;
    // Set when the backend failed the request (connection error, reset mid-body).
    let failed = false;
    // Set once the client's response is over; a later upstream error is our own teardown.
    let closed = false;
    const upstream = http.request({
      host: backend.host,
      port: backend.port,
      method: req.method,
      path: req.url,
      headers: requestHeaders(req),
      agent: backend.agent,
      timeout: limits.upstreamTimeoutMs,
    });
    upstream.on('timeout', () => upstream.destroy(upstreamTimeout(limits.upstreamTimeoutMs)));
    let answered = false;
    upstream.on('response', (ures) => {
      answered = true;
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, stripHopByHop(ures.headers));
      // pipe(), not pipeline(): pipeline allocates an AbortSignal per call, a measurable
      // cost at thousands of requests per second. Errors are handled on both ends below.
      ures.on('error', () => {
        failed = true;
        res.destroy();
      });
      ures.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      release();
      if (closed) return; // the client left (or the response ended) first: not the backend's failure
      failed = true;
      if (answered || res.headersSent || res.destroyed) {
        backend.metrics.upstreamErrors++;
        res.destroy();
        return;
      }
      const code = err.code ?? err.message;
      const staleSocket = code === 'ECONNRESET' && upstream.reusedSocket;
      if (NOT_DELIVERED.has(code)) backend.markDown(`connection failed: ${code}`);
      // A keep-alive socket the backend closed as we reused it is a race, not a failure.
      if (!(staleSocket && retry)) backend.metrics.upstreamErrors++;
      const reason = `backend ${backend.url} of revision "${backend.revisionId}" failed: ${err.message}`;
      if (retry && !hasBody(req) && (NOT_DELIVERED.has(code) || staleSocket)) {
        const other = staleSocket ? backend : pool.pick(backend);
        if (other) {
          handedOver = true;
          return forward(req, res, other, false, startedAt);
        }
        if (!staleSocket) {
          opts.log(`${req.method} ${req.url}: ${reason}`);
          return badGateway(res, noBackend());
        }
      }
      const status = code === UPSTREAM_TIMEOUT ? 504 : 502;
      opts.log(`${status} for ${req.method} ${req.url}: ${reason}`);
      badGateway(res, clientBody(status), status);
    });
    // A client that goes away mid-request must not leave the backend request dangling.
    res.on('close', () => {
      closed = true;
      if (!res.writableFinished) upstream.destroy();
      release();
      if (handedOver) return;
      const m = backend.metrics;
      if (failed)
        m.observe(
          res.headersSent && res.statusCode >= 500 ? res.statusCode : 502,
          (performance.now() - startedAt) / 1000,
        );
      else if (res.headersSent) m.observe(res.statusCode, (performance.now() - startedAt) / 1000);
      else m.clientAborts++;
    });
    if (hasBody(req)) req.pipe(upstream);
    else upstream.end();
  };

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const startedAt = performance.now();
    const backend = pool.pick();
    if (!backend) {
      pool.metrics.unrouted++;
      return badGateway(res, noBackend());
    }
    forward(req, res, backend, true, startedAt);
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const backend = pool.pick();
    if (!backend) {
      socket.on('error', () => socket.destroy());
      return rawReply(socket, 502, noBackend());
    }
    passUpgrade(req, socket, head, backend, limits, opts.log);
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? 400;
    // Once a response has started on this connection, a status line would corrupt it: just cut it.
    const started = (socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage?.headersSent;
    if (err.code !== 'ECONNRESET' && socket.writable && !started) {
      rawReply(socket, status, `bp router: ${http.STATUS_CODES[status] ?? 'bad request'}\n`);
    } else socket.destroy();
  });
  return server;
}

/** Parser and timeout errors Node reports on a client connection, and the status each earns. */
const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** How long a refused client gets to read its answer before the socket is cut regardless. */
const LINGER_MS = 1000;

function rawReply(socket: Duplex, status: number, body: string): void {
  const reason = http.STATUS_CODES[status] ?? '';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // end() only half-closes: a client that never closes its side would hold the socket forever.
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

function rawHead(res: http.IncomingMessage): string {
  let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
  for (let i = 0; i < res.rawHeaders.length; i += 2) head += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return head + '\r\n';
}

/**
 * Tunnels an `Upgrade` request byte for byte once the backend agrees to switch protocols.
 * The backend's in-flight count is released exactly once on every path: tunnel closed by
 * either side, client gone before the backend answered, backend declined, failed or hung.
 */
function passUpgrade(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  backend: Backend,
  limits: RouterLimits,
  log: (message: string) => void,
): void {
  const release = backend.acquire();
  const headers = requestHeaders(req);
  headers.connection = 'Upgrade';
  if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
  const upstream = http.request({
    host: backend.host,
    port: backend.port,
    method: req.method,
    path: req.url,
    headers,
    agent: false,
    timeout: limits.upstreamTimeoutMs,
  });
  let tunnel: Duplex | null = null;
  const end = (): void => {
    release();
    upstream.destroy();
    tunnel?.destroy();
    socket.destroy();
  };
  // Upgraded sockets are half-open capable and no longer watched by the HTTP parser: a FIN from
  // either side would otherwise leave the tunnel (and its in-flight count) open for good.
  socket.on('error', end).on('close', end).on('end', end);
  upstream.on('timeout', () => upstream.destroy(upstreamTimeout(limits.upstreamTimeoutMs)));
  upstream.on('upgrade', (ures, usocket, uhead) => {
    tunnel = usocket;
    // The handshake's deadline is over: an open tunnel may stay quiet as long as both ends like.
    usocket.setTimeout(0);
    usocket.on('error', end).on('close', end).on('end', end);
    if (socket.destroyed) return end();
    socket.write(rawHead(ures));
    if (uhead.length > 0) socket.write(uhead);
    if (head.length > 0) usocket.write(head);
    usocket.pipe(socket).pipe(usocket);
  });
  upstream.on('response', (ures) => {
    // The backend declined to switch protocols: relay its answer and close.
    socket.write(rawHead(ures));
    ures.on('error', end);
    ures.on('end', release);
    ures.pipe(socket);
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    release();
    const code = err.code ?? err.message;
    if (NOT_DELIVERED.has(code)) backend.markDown(`connection failed: ${code}`);
    if (!socket.writable || socket.destroyed) return;
    const status = code === UPSTREAM_TIMEOUT ? 504 : 502;
    log(
      `${status} for upgrade ${req.method} ${req.url}: backend ${backend.url} of revision "${backend.revisionId}" ` +
        `failed: ${err.message}`,
    );
    rawReply(socket, status, clientBody(status));
  });
  upstream.end();
}
