/**
 * A stateful fake kube-apiserver over real HTTP on loopback, speaking the Kubernetes REST
 * protocol closely enough for @kubernetes/client-node (see BEHAVIOUR.md beside this file).
 *
 *   const kube = await startFakeKubeApiServer({ readyDelayMs: 50 });
 *   // point a kubeconfig at kube.url ... kube.faults.add({ status: 429, times: 2 })
 *   await kube.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { DeploymentController, type FailureRule } from './controller.js';
import { Faults, Journal } from './faults.js';
import type { Obj } from './fields.js';
import { apiVersionOf, CORE_TYPES, GATEWAY_TYPES, ResourceRegistry, type ResourceType } from './resources.js';
import { ApiError, errors, status } from './status.js';
import { ObjectStore } from './store.js';
import { serveWatch } from './watch.js';

export interface FakeKubeOptions {
  /** Controller period (default 20 ms). */
  tickMs?: number;
  /** How long a pod takes to become ready (default 60 ms). */
  readyDelayMs?: number;
  /** Images that fail; default: any image under the reserved `.invalid` domain gets ImagePullBackOff. */
  failures?: FailureRule[];
  /** Serve the Gateway API CRDs (HTTPRoute); default true. */
  gatewayApi?: boolean;
  /** Namespaces besides `default` and `kube-system`. */
  namespaces?: string[];
  /** Decides on the Authorization header; absent accepts every request. */
  authenticate?: (authorization: string | undefined) => boolean | Promise<boolean>;
}

export interface FakeKube {
  url: string;
  store: ObjectStore;
  registry: ResourceRegistry;
  controller: DeploymentController;
  faults: Faults;
  journal: Journal;
  /** A stored object, or undefined (kind as in `apiVersion`/`kind`). */
  object(apiVersion: string, kind: string, namespace: string, name: string): Obj | undefined;
  objects(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Obj[];
  /** Creates a namespace (as `kubectl create namespace` would). */
  addNamespace(name: string): void;
  close(): Promise<void>;
}

export const DEFAULT_FAILURES: FailureRule[] = [{ image: /^[^/]+\.invalid\//, reason: 'ImagePullBackOff' }];

export async function startFakeKubeApiServer(opts: FakeKubeOptions = {}): Promise<FakeKube> {
  const registry = new ResourceRegistry([...CORE_TYPES, ...(opts.gatewayApi === false ? [] : GATEWAY_TYPES)]);
  const store = new ObjectStore();
  for (const ns of opts.namespaces ?? []) store.namespaces.add(ns);
  const namespaceType = registry.byKind('v1', 'Namespace')!;
  const addNamespace = (name: string) => {
    store.namespaces.add(name);
    store.insertSystem(namespaceType, '', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  };
  for (const name of [...store.namespaces]) addNamespace(name);
  const controller = new DeploymentController(store, registry, {
    tickMs: opts.tickMs ?? 20,
    readyDelayMs: opts.readyDelayMs ?? 60,
    failures: opts.failures ?? DEFAULT_FAILURES,
    cpuUtilization: {},
  });
  const faults = new Faults();
  const journal = new Journal();
  const handler = new Handler(registry, store, opts);

  const server = createServer((req, res) => {
    void serve(req, res);
  });
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'] ?? null;
    const raw = await readBody(req);
    let code = 200;
    let body: unknown;
    const headers: Record<string, string> = {};
    try {
      const fault = faults.take(method, url.pathname, contentType);
      if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
      if (fault?.status === 429) throw errors.tooManyRequests(fault.retryAfterSeconds ?? 1);
      if (fault?.status === 500) throw errors.internal('injected fault');
      if (fault?.status === 409)
        throw new ApiError(
          status(
            409,
            'Conflict',
            'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
          ),
        );
      if (fault?.status) throw new ApiError(status(fault.status, 'InternalError', `injected fault ${fault.status}`));
      if (opts.authenticate && !(await opts.authenticate(req.headers.authorization))) throw errors.unauthorized();
      const watch = url.searchParams.get('watch');
      if (method === 'GET' && (watch === 'true' || watch === '1')) {
        const target = handler.route(
          url.pathname
            .split('/')
            .filter((s) => s !== '')
            .map(decodeURIComponent),
        );
        if (target.name !== undefined) throw errors.methodNotAllowed(method);
        journal.record({
          at: Date.now(),
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          contentType,
          userAgent: req.headers['user-agent'] ?? null,
          authorization: req.headers.authorization ?? null,
          status: 200,
          body: undefined,
        });
        serveWatch(req, res, store, target.type, target.namespace || undefined, url.searchParams);
        return;
      }
      const r = handler.handle(method, url, contentType, raw, req.headers['user-agent']);
      code = r.code;
      body = r.body;
    } catch (e) {
      if (e instanceof ApiError) {
        code = e.body.code;
        body = e.body;
        Object.assign(headers, e.headers);
      } else {
        code = 500;
        body = status(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
      }
    }
    journal.record({
      at: Date.now(),
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      userAgent: req.headers['user-agent'] ?? null,
      authorization: req.headers.authorization ?? null,
      status: code,
      body: raw ? safeParse(raw, contentType) : undefined,
    });
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  controller.start();
  const port = (server.address() as AddressInfo).port;
  const typeOf = (apiVersion: string, kind: string) => {
    const t = registry.byKind(apiVersion, kind);
    if (!t) throw new Error(`the fake serves no ${apiVersion} ${kind}`);
    return t;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    registry,
    controller,
    faults,
    journal,
    object: (apiVersion, kind, ns, name) => store.find(typeOf(apiVersion, kind), ns, name),
    objects: (apiVersion, kind, ns, selector) => store.list(typeOf(apiVersion, kind), ns, selector ?? null),
    addNamespace,
    close: async () => {
      controller.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function safeParse(raw: string, contentType: string | null): unknown {
  try {
    return contentType?.includes('yaml') ? parseYaml(raw) : JSON.parse(raw);
  } catch {
    return raw;
  }
}

interface Target {
  type: ResourceType;
  namespace: string;
  name?: string;
  subresource?: string;
}

class Handler {
  constructor(
    private readonly registry: ResourceRegistry,
    private readonly store: ObjectStore,
    private readonly opts: FakeKubeOptions,
  ) {}

  handle(
    method: string,
    url: URL,
    contentType: string | null,
    raw: string,
    userAgent: string | undefined,
  ): { code: number; body: unknown } {
    const segs = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    if (method === 'GET') {
      const discovery = this.discovery(segs);
      if (discovery !== undefined) return { code: 200, body: discovery };
    }
    const target = this.route(segs);
    const q = url.searchParams;
    const t = target.type;
    const manager = q.get('fieldManager') ?? defaultManager(userAgent);
    const dryRun = method === 'GET' ? false : dryRunOf(q);
    if (target.subresource) {
      if (target.subresource !== 'status' || method !== 'GET') throw errors.methodNotAllowed(method);
      return { code: 200, body: this.store.get(t, target.namespace, target.name!) };
    }
    if (target.name === undefined) {
      if (method === 'GET')
        return {
          code: 200,
          body: this.list(t, target.namespace || undefined, q.get('labelSelector'), q.get('fieldSelector')),
        };
      if (method === 'POST') {
        if (t.namespaced && !target.namespace) throw errors.methodNotAllowed(method);
        return {
          code: 201,
          body: this.store.create(t, target.namespace, parseBody(raw, contentType), { manager, dryRun }),
        };
      }
      throw errors.methodNotAllowed(method);
    }
    const name = target.name;
    switch (method) {
      case 'GET':
        return { code: 200, body: this.store.get(t, target.namespace, name) };
      case 'PUT':
        return {
          code: 200,
          body: this.store.replace(t, target.namespace, name, parseBody(raw, contentType), { manager, dryRun }),
        };
      case 'DELETE': {
        const gone = this.store.delete(t, target.namespace, name, dryRun);
        return {
          code: 200,
          body: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: { name, group: t.group, kind: t.resource, uid: (gone.metadata as Obj).uid },
          },
        };
      }
      case 'PATCH':
        return this.patch(t, target.namespace, name, contentType, raw, q, manager, dryRun);
      default:
        throw errors.methodNotAllowed(method);
    }
  }

  private patch(
    t: ResourceType,
    ns: string,
    name: string,
    contentType: string | null,
    raw: string,
    q: URLSearchParams,
    manager: string,
    dryRun: boolean,
  ): { code: number; body: unknown } {
    const type = (contentType ?? '').split(';')[0].trim();
    const force = q.get('force');
    if (type === 'application/apply-patch+yaml') {
      const fieldManager = q.get('fieldManager');
      if (!fieldManager) {
        throw new ApiError(
          status(
            422,
            'Invalid',
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
            {
              group: 'meta.k8s.io',
              kind: 'PatchOptions',
              causes: [
                {
                  reason: 'FieldValueRequired',
                  message: 'Required value: is required for apply patch',
                  field: 'fieldManager',
                },
              ],
            },
          ),
        );
      }
      const r = this.store.apply(t, ns, name, parseBody(raw, 'yaml'), {
        manager: fieldManager,
        force: force === 'true',
        dryRun,
      });
      return { code: r.created ? 201 : 200, body: r.obj };
    }
    if (force !== null) {
      throw new ApiError(
        status(
          422,
          'Invalid',
          'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
          {
            group: 'meta.k8s.io',
            kind: 'PatchOptions',
            causes: [
              {
                reason: 'FieldValueForbidden',
                message: 'Forbidden: may not be specified for non-apply patch',
                field: 'force',
              },
            ],
          },
        ),
      );
    }
    if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
      return { code: 200, body: this.store.mergePatch(t, ns, name, parseBody(raw, contentType), { manager, dryRun }) };
    }
    throw errors.unsupportedMediaType(type);
  }

  private list(
    t: ResourceType,
    ns: string | undefined,
    selector: string | null,
    fieldSelector: string | null,
  ): unknown {
    if (ns !== undefined) this.store.requireNamespace(t, ns);
    const builtIn = !t.group.includes('.');
    const items = this.store.list(t, ns, selector, fieldSelector).map((o) => {
      // Lists of built-in types carry kind/apiVersion once, on the list, not on each item.
      if (builtIn) {
        delete o.kind;
        delete o.apiVersion;
      }
      return o;
    });
    return {
      kind: `${t.kind}List`,
      apiVersion: apiVersionOf(t),
      metadata: { resourceVersion: this.store.currentResourceVersion() },
      items,
    };
  }

  private discovery(segs: string[]): unknown {
    if (segs.length === 1 && segs[0] === 'version')
      return { major: '1', minor: '30', gitVersion: 'v1.30.0-bp-fake', platform: 'linux/amd64' };
    if (segs.length === 1 && segs[0] === 'api') return this.registry.coreVersions();
    if (segs.length === 1 && segs[0] === 'apis') return this.registry.groups();
    if (segs.length === 2 && segs[0] === 'api') return this.registry.resourceList('', segs[1]) ?? notFoundPath();
    if (segs.length === 3 && segs[0] === 'apis') return this.registry.resourceList(segs[1], segs[2]) ?? notFoundPath();
    return undefined;
  }

  route(segs: string[]): Target {
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 3) [group, version, rest] = ['', segs[1], segs.slice(2)];
    else if (segs[0] === 'apis' && segs.length >= 4) [group, version, rest] = [segs[1], segs[2], segs.slice(3)];
    else throw errors.pathNotFound();
    const typeOf = (resource: string) => {
      const t = this.registry.byPath(group, version, resource);
      if (!t) throw errors.pathNotFound();
      return t;
    };
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = typeOf(rest[2]);
      if (rest.length > 5) throw errors.pathNotFound();
      return { type: t, namespace: rest[1], name: rest[3], subresource: rest[4] };
    }
    if (rest.length <= 2) {
      const t = typeOf(rest[0]);
      if (t.namespaced && rest.length === 2) throw errors.pathNotFound();
      return { type: t, namespace: '', name: rest[1] };
    }
    throw errors.pathNotFound();
  }
}

function notFoundPath(): never {
  throw errors.pathNotFound();
}

function parseBody(raw: string, contentType: string | null): Obj {
  try {
    const v: unknown = contentType?.includes('yaml') ? parseYaml(raw) : JSON.parse(raw);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Obj;
  } catch (e) {
    throw errors.badRequest(`error decoding request body: ${(e as Error).message}`);
  }
}

/** `?dryRun=All` (the only value the API accepts); anything else is 400. */
function dryRunOf(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  if (values.length === 0) return false;
  const bad = values.find((v) => v !== 'All');
  if (bad !== undefined) throw errors.badRequest(`dryRun: Unsupported value: "${bad}": supported values: "All"`);
  return true;
}

/** Updates without ?fieldManager= are attributed to the client's User-Agent program name. */
function defaultManager(userAgent: string | undefined): string {
  const first = (userAgent ?? '').split('/')[0].trim();
  return first || 'unknown';
}
