/**
 * A stateful fake of Azure Resource Manager for the slice the `azure-vm` deployer uses
 * (Compute VMs, Network public IPs / load balancers / NICs / subnets, Traffic Manager) plus a
 * Microsoft Entra token endpoint, over HTTPS with a throwaway certificate, so the unmodified
 * Azure SDKs and @azure/identity talk to it. Behaviour and its sources: BEHAVIOUR.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeThrowawayCert, type ThrowawayCert } from './cert.js';
import { Guests, type GuestTimings } from './guests.js';
import { ArmApi } from './arm.js';
import { requestSchemas, type RequestSchemas } from './request-schemas.js';
import { DEFAULT_RESTRICTIONS, type SkuRestriction } from './skus.js';
import { ArmError, Store } from './store.js';

export interface FaultRule {
  method?: string;
  /** Matched against `METHOD /subscriptions/...` (no query string). */
  path?: RegExp;
  /** How many matching requests it affects; unlimited when absent. */
  times?: number;
  /** Answer with this HTTP error (ARM error body) instead of serving the request. */
  status?: number;
  code?: string;
  message?: string;
  /** Sent as `Retry-After` (seconds) with the error, as ARM throttling answers do. */
  retryAfterSeconds?: number;
  /** Serve the request, but let its asynchronous operation end Failed with this error. */
  operationError?: { code: string; message: string };
  /** Delay before answering (latency). */
  delayMs?: number;
}

export interface JournalEntry {
  at: number;
  method: string;
  path: string;
  query: string;
  status: number;
  fault: boolean;
  /** `x-ms-client-request-id`, which the SDKs set on every request. */
  clientRequestId: string | null;
}

export interface FakeArmOptions {
  opDelayMs?: number;
  timings?: Partial<GuestTimings>;
  unpullableImages?: string[];
  /** Regional vCPU quota (OperationNotAllowed past it). */
  coresLimit?: number;
  /** `Retry-After` on 201/202 answers (0: poll at the client's own interval). */
  retryAfterSeconds?: number;
  /** Resources per list page (default 5, so every list is paginated in tests). */
  pageSize?: number;
  /** Sizes not offered in a location or zone (default DEFAULT_RESTRICTIONS in skus.ts). */
  skuRestrictions?: SkuRestriction[];
}

export const FAKE_SUBSCRIPTION = '00000000-0000-4000-8000-00000000b0b0';
export const FAKE_TENANT = '72f988bf-0000-4000-8000-0000000000bb';
export const FAKE_RESOURCE_GROUP = 'bp-test-rg';
export const FAKE_LOCATION = 'westeurope';
export const FAKE_CLIENT = {
  clientId: 'a1b2c3d4-0000-4000-8000-00000000c11e',
  clientSecret: 'fake-client-secret~value',
};

export class FakeArm {
  readonly journal: JournalEntry[] = [];
  readonly store = new Store();
  readonly guests: Guests;
  readonly timings: GuestTimings;
  private readonly api: ArmApi;
  private readonly faults: Array<FaultRule & { hits: number }> = [];
  private readonly tokens = new Set<string>();
  private schemas: RequestSchemas | null = null;
  private server: Server | null = null;
  private cert: ThrowawayCert | null = null;
  port = 0;

  constructor(private readonly opts: FakeArmOptions = {}) {
    this.timings = { bootMs: 150, healthyAfterMs: 250, ...opts.timings };
    this.guests = new Guests(this.store, () => this.timings, new Set(opts.unpullableImages ?? []));
    this.api = new ArmApi(this.store, this.guests, {
      opDelayMs: () => this.opts.opDelayMs ?? 40,
      coresLimit: () => this.coresLimit,
      retryAfterSeconds: opts.retryAfterSeconds ?? 0,
      base: () => this.endpoint,
      pageSize: () => this.opts.pageSize ?? 5,
      skuRestrictions: () => this.skuRestrictions,
      schemas: () => {
        if (!this.schemas) throw new Error('the fake is not started');
        return this.schemas;
      },
    });
  }

  coresLimit = 0;
  /** Sizes not offered in a location or zone; tests may change it at any time. */
  skuRestrictions: SkuRestriction[] = [];

  get endpoint(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** PEM file the clients must trust (the certificate is its own CA). */
  get caFile(): string {
    if (!this.cert) throw new Error('the fake is not started');
    return this.cert.certFile;
  }

  get groupId(): string {
    return `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${FAKE_RESOURCE_GROUP}`;
  }

  /** The subnet that exists from the start, as operators create networks once. */
  get subnetId(): string {
    return `${this.groupId}/providers/Microsoft.Network/virtualNetworks/bp-vnet/subnets/apps`;
  }

  async start(): Promise<this> {
    this.coresLimit = this.opts.coresLimit ?? 200;
    this.skuRestrictions = [...(this.opts.skuRestrictions ?? DEFAULT_RESTRICTIONS)];
    this.schemas = await requestSchemas();
    this.cert = makeThrowawayCert();
    this.api.seedGroup(FAKE_SUBSCRIPTION, FAKE_RESOURCE_GROUP, FAKE_LOCATION);
    this.server = createServer({ cert: this.cert.cert, key: this.cert.key }, (req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    this.cert?.remove();
  }

  /** An access token the fake accepts, as `az account get-access-token` would print. */
  issueToken(): string {
    const token = `eyJ0eXAiOiJKV1QifQ.fake-${randomBytes(16).toString('hex')}.sig`;
    this.tokens.add(token);
    return token;
  }

  addFault(rule: FaultRule): void {
    this.faults.push({ ...rule, hits: 0 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests in the journal whose path matches, e.g. `requests('PUT', /virtualMachines\//)`. */
  requests(method: string, path: RegExp): JournalEntry[] {
    return this.journal.filter((j) => j.method === method && path.test(j.path));
  }

  private matchFault(method: string, path: string): (FaultRule & { hits: number }) | null {
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
    const url = new URL(req.url ?? '/', 'https://fake');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const header = req.headers['x-ms-client-request-id'];
    const entry: JournalEntry = {
      at: Date.now(),
      method,
      path: url.pathname,
      query: url.search,
      status: 200,
      fault: false,
      clientRequestId: typeof header === 'string' ? header : null,
    };
    this.journal.push(entry);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      const requestId = randomUUID();
      res.writeHead(status, {
        'x-ms-request-id': requestId,
        'x-ms-correlation-request-id': requestId,
        ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        ...headers,
      });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    try {
      const token = this.tokenEndpoint(method, url, raw);
      if (token) return send(200, token);
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ')) {
        throw new ArmError(
          401,
          'AuthenticationFailed',
          "Authentication failed. The 'Authorization' header is missing.",
        );
      }
      if (!this.tokens.has(auth.slice('Bearer '.length))) {
        throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
      }
      const fault = this.matchFault(method, url.pathname);
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.status) {
        entry.fault = true;
        const headers: Record<string, string> =
          fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
        throw new ArmError(
          fault.status,
          fault.code ?? 'InternalServerError',
          fault.message ?? `injected fault ${fault.status}`,
          headers,
        );
      }
      if (fault?.operationError) entry.fault = true;
      const answer = this.api.handle(method, url, raw, fault?.operationError);
      send(answer.status, answer.body, answer.headers);
    } catch (e) {
      const err =
        e instanceof ArmError
          ? e
          : new ArmError(500, 'InternalServerError', e instanceof Error ? e.message : String(e));
      send(err.status, err.body(), err.headers);
    }
  }

  /** Microsoft Entra ID v2.0: OpenID metadata and the client-credentials grant (RFC 6749 section 4.4). */
  private tokenEndpoint(method: string, url: URL, raw: string): unknown {
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/instance)$/.exec(
      url.pathname,
    );
    if (!m) return null;
    const [, tenant, what] = m;
    const authority = `${this.endpoint}/${tenant}`;
    if (what === 'discovery/instance') {
      const host = `127.0.0.1:${this.port}`;
      return {
        tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      };
    }
    if (what.startsWith('v2.0')) {
      return {
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
        issuer: `${authority}/v2.0`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        tenant_region_scope: 'EU',
      };
    }
    if (method !== 'POST') throw new ArmError(405, 'MethodNotAllowed', 'use POST');
    const form = new URLSearchParams(raw);
    if (
      tenant !== FAKE_TENANT ||
      form.get('grant_type') !== 'client_credentials' ||
      form.get('client_id') !== FAKE_CLIENT.clientId ||
      form.get('client_secret') !== FAKE_CLIENT.clientSecret
    ) {
      throw new ArmError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    return { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: this.issueToken() };
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
