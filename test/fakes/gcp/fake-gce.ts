/**
 * A stateful fake of the Compute Engine REST API (v1) and the Security Token Service token
 * exchange, on a loopback HTTP port, so the real `@google-cloud/compute` client runs unchanged
 * with `apiEndpoint`/`port`/`protocol: 'http'` and an `external_account` credentials file.
 * Behaviour and the documentation it follows: BEHAVIOUR.md beside this file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collections, GLOBAL_KINDS, ZONAL_KINDS, type CallContext } from './collections.js';
import { Guests, type GuestTimings } from './guest.js';
import { Quotas } from './quotas.js';
import { ApiError, type Resource, Store } from './store.js';

export interface FaultRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Matched against `METHOD /compute/v1/...path` (without the query string). */
  path?: RegExp;
  /** How many matching requests it affects; unlimited when absent. */
  times?: number;
  /** Answer with this HTTP error instead of serving the request. */
  status?: number;
  reason?: string;
  message?: string;
  /** Serve the request, but let its operation end DONE with this error (no change made). */
  operationError?: { code: string; message: string; httpStatus?: number };
  /** Delay before answering (latency). */
  delayMs?: number;
}

export interface JournalEntry {
  at: number;
  method: string;
  path: string;
  query: string;
  status: number;
  requestId: string | null;
  fault: boolean;
  /** The JSON body as the client sent it (what the SDK really puts on the wire), when there was one. */
  body?: unknown;
}

export interface FakeGceOptions {
  opDelayMs?: number;
  timings?: Partial<GuestTimings>;
  unpullableImages?: string[];
  /** Items per list page (default 5: every list is paginated in tests). */
  pageSize?: number;
  /** Quota limits by metric (CPUS, INSTANCES, BACKEND_SERVICES, ...) over a fresh project's defaults. */
  quotas?: Record<string, number>;
}

export class FakeGce {
  readonly journal: JournalEntry[] = [];
  readonly store: Store;
  readonly guests: Guests;
  readonly quotas: Quotas;
  readonly timings: GuestTimings;
  opDelayMs: number;
  private readonly collections: Collections;
  private readonly faults: Array<FaultRule & { hits: number }> = [];
  private readonly tokens = new Set<string>();
  private server: Server | null = null;
  private credsDir: string | null = null;
  port = 0;

  constructor(opts: FakeGceOptions = {}) {
    this.opDelayMs = opts.opDelayMs ?? 40;
    this.timings = { bootMs: 150, healthyAfterMs: 250, repairDelayMs: 1500, ...opts.timings };
    this.store = new Store(() => this.opDelayMs);
    this.quotas = new Quotas(this.store);
    this.quotas.set(opts.quotas ?? {});
    this.guests = new Guests(this.store, this.quotas, () => this.timings, new Set(opts.unpullableImages ?? []));
    this.collections = new Collections(this.store, this.guests, this.quotas);
    this.collections.pageSize = opts.pageSize ?? 5;
  }

  /** Base URL for the client's endpoint override, e.g. `http://127.0.0.1:40123`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    // Google's front ends keep idle connections far longer than Node's 5 s default; a short
    // timeout races a client reusing the socket (ECONNRESET) on a loaded machine.
    this.server.keepAliveTimeout = 600_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  async close(): Promise<void> {
    this.guests.close();
    if (this.credsDir) rmSync(this.credsDir, { recursive: true, force: true });
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  /**
   * Writes a Workload Identity Federation (`external_account`) credentials file whose token
   * exchange goes to this fake: what GOOGLE_APPLICATION_CREDENTIALS points at in tests.
   */
  writeCredentials(): string {
    this.credsDir ??= mkdtempSync(join(tmpdir(), 'bp-fake-gce-creds-'));
    const subject = join(this.credsDir, 'subject-token');
    writeFileSync(subject, `fake-oidc-${randomBytes(8).toString('hex')}`);
    const file = join(this.credsDir, 'credentials.json');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'external_account',
        audience:
          '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/bp-test/providers/fake',
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: `${this.endpoint}/v1/token`,
        credential_source: { file: subject },
      }),
    );
    return file;
  }

  addFault(rule: FaultRule): void {
    this.faults.push({ ...rule, hits: 0 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Resources of one kind in a scope (`projects/p/global`, `projects/p/zones/z`). */
  list(scope: string, kind: string): Resource[] {
    return [...this.store.collection(scope, kind).values()];
  }

  /** Simulates a VM failing outside any API call (host error, preemption, someone's `poweroff`). */
  terminateInstance(project: string, zone: string, name: string): void {
    this.guests.terminate(`projects/${project}/zones/${zone}/instances/${name}`);
  }

  private matchFault(method: string, path: string): FaultRule | null {
    for (const f of this.faults) {
      if (f.method && f.method !== method) continue;
      if (f.path && !f.path.test(`${method} ${path}`)) continue;
      if (f.times !== undefined && f.hits >= f.times) continue;
      f.hits++;
      return f;
    }
    return null;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const entry: JournalEntry = {
      at: Date.now(),
      method,
      path: url.pathname,
      query: url.search,
      status: 200,
      requestId: url.searchParams.get('requestId'),
      fault: false,
      ...(raw.trim().startsWith('{') ? { body: parseOrRaw(raw) } : {}),
    };
    this.journal.push(entry);
    const send = (status: number, body: unknown) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(body));
    };
    try {
      if (url.pathname === '/v1/token' && method === 'POST') return send(200, this.exchangeToken(raw));
      const auth = req.headers.authorization ?? '';
      if (!this.tokens.has(auth.replace(/^Bearer /, ''))) {
        return send(401, {
          error: {
            code: 401,
            status: 'UNAUTHENTICATED',
            message:
              'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
            errors: [{ message: 'Invalid Credentials', domain: 'global', reason: 'authError' }],
          },
        });
      }
      const fault = this.matchFault(method, url.pathname);
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.status) {
        entry.fault = true;
        throw new ApiError(
          fault.status,
          fault.reason ?? 'backendError',
          fault.message ?? `injected fault ${fault.status}`,
        );
      }
      const ctx = this.route(method, url, raw);
      if (fault?.operationError) {
        entry.fault = true;
        ctx.operationError = { httpStatus: 403, ...fault.operationError };
      }
      send(200, await this.collections.handle(ctx));
    } catch (e) {
      const err =
        e instanceof ApiError ? e : new ApiError(500, 'internalError', e instanceof Error ? e.message : String(e));
      send(err.status, err.body());
    }
  }

  /** RFC 8693 token exchange, as sts.googleapis.com answers it. */
  private exchangeToken(raw: string): unknown {
    const form = new URLSearchParams(raw);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange' || !form.get('subject_token')) {
      throw new ApiError(400, 'invalid_request', 'Invalid token exchange request');
    }
    const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
    this.tokens.add(token);
    return {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 3600,
    };
  }

  private route(method: string, url: URL, raw: string): CallContext {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // compute v1 projects P (global | zones Z) COLLECTION [NAME [VERB]]
    if (parts[0] !== 'compute' || parts[1] !== 'v1' || parts[2] !== 'projects' || !parts[3]) {
      throw new ApiError(404, 'notFound', `no such API path ${url.pathname}`);
    }
    const project = parts[3];
    let scope: string;
    let rest: string[];
    if (parts.length === 4 || (parts[4] === 'regions' && parts.length === 6)) {
      // projects.get / regions.get: where quotas are reported.
      scope = parts.slice(2).join('/');
      rest = parts.length === 4 ? ['project', project] : ['region', parts[5]];
    } else if (parts[4] === 'global') {
      scope = `projects/${project}/global`;
      rest = parts.slice(5);
      if (!GLOBAL_KINDS.includes(rest[0]))
        throw new ApiError(404, 'notFound', `the fake does not serve global/${rest[0]}`);
    } else if (parts[4] === 'zones' && parts[5]) {
      scope = `projects/${project}/zones/${parts[5]}`;
      rest = parts.slice(6);
      if (!ZONAL_KINDS.includes(rest[0]))
        throw new ApiError(404, 'notFound', `the fake does not serve zones/*/${rest[0]}`);
    } else {
      throw new ApiError(404, 'notFound', `no such API path ${url.pathname}`);
    }
    let body: Record<string, unknown> = {};
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw new ApiError(400, 'parseError', 'Invalid JSON payload received. Unexpected token.', {
          status: 'INVALID_ARGUMENT',
        });
      }
    }
    return {
      method,
      project,
      scope,
      collection: rest[0],
      name: rest[1] ?? null,
      verb: rest[2] ?? null,
      query: url.searchParams,
      body,
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
