/**
 * The Compute Engine collections the fake serves, with the rules the real API enforces on
 * them: name format, uniqueness, references that must exist, resources that cannot be deleted
 * while another one uses them, URL map fingerprints, weight ranges. BEHAVIOUR.md cites each.
 */
import { randomBytes } from 'node:crypto';
import { declaredImage, type Guests, pathOf } from './guest.js';
import { ApiError, canonicalPath, notFound, type OperationRecord, type Resource, type Store } from './store.js';

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface CallContext {
  method: string;
  project: string;
  /** `projects/p/global` or `projects/p/zones/z`. */
  scope: string;
  collection: string;
  name: string | null;
  verb: string | null;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** Set by a fault rule: the operation is accepted but ends in this error. */
  operationError?: { code: string; message: string; httpStatus: number };
}

export const GLOBAL_KINDS = [
  'instanceTemplates',
  'healthChecks',
  'backendServices',
  'urlMaps',
  'targetHttpProxies',
  'forwardingRules',
  'operations',
];
export const ZONAL_KINDS = ['instanceGroupManagers', 'instances', 'instanceGroups', 'operations'];

/** Which resource kinds hold references to which (for "in use" refusals on delete). */
function usersOf(store: Store, target: Resource, kind: string): Resource[] {
  const link = target.selfLink;
  const refs = (r: Resource): string[] => {
    switch (kind) {
      case 'instanceTemplates':
        return [String(r.instanceTemplate ?? '')];
      case 'healthChecks':
        return (r.healthChecks as string[] | undefined) ?? [];
      case 'instanceGroupManagers':
        return ((r.backends as Array<{ group: string }> | undefined) ?? []).map((b) => b.group);
      case 'backendServices':
        return urlMapServices(r);
      case 'urlMaps':
        return [String(r.urlMap ?? '')];
      case 'targetHttpProxies':
        return [String(r.target ?? '')];
      default:
        return [];
    }
  };
  const userKind: Record<string, string> = {
    instanceTemplates: 'instanceGroupManagers',
    healthChecks: 'backendServices',
    instanceGroupManagers: 'backendServices',
    backendServices: 'urlMaps',
    urlMaps: 'targetHttpProxies',
    targetHttpProxies: 'forwardingRules',
  };
  const project = pathOf(target).split('/')[1];
  const match = kind === 'instanceGroupManagers' ? String(target.instanceGroup) : link;
  return userKind[kind]
    ? store
        .all(userKind[kind])
        .filter((u) => refs(u).some((x) => x && canonicalPath(x, project) === canonicalPath(match, project)))
    : [];
}

function urlMapServices(map: Resource): string[] {
  const action = map.defaultRouteAction as { weightedBackendServices?: Array<{ backendService: string }> } | undefined;
  return [
    ...(action?.weightedBackendServices ?? []).map((w) => w.backendService),
    ...(map.defaultService ? [String(map.defaultService)] : []),
  ];
}

const singular: Record<string, string> = {
  instanceTemplates: 'instance_template',
  healthChecks: 'health_check',
  backendServices: 'backend_service',
  urlMaps: 'url_map',
  targetHttpProxies: 'target_http_proxy',
  forwardingRules: 'forwarding_rule',
  instanceGroupManagers: 'instance_group_manager',
  instances: 'instance',
};

export class Collections {
  private nextAddress = 10;

  /** Most items per list page (the API's cap is 500; small here so every list is paginated in tests). */
  pageSize = 5;

  constructor(
    private readonly store: Store,
    private readonly guests: Guests,
  ) {}

  handle(c: CallContext): unknown {
    if (c.collection === 'operations') return this.operationCall(c);
    const path = `${c.scope}/${c.collection}${c.name ? `/${c.name}` : ''}`;
    if (c.verb) return this.customVerb(c, path);
    switch (c.method) {
      case 'GET':
        return c.name ? this.store.require(path) : this.list(c);
      case 'POST':
        return this.insert(c);
      case 'DELETE':
        return this.remove(c, path);
      case 'PATCH':
      case 'PUT':
        return this.update(c, path);
      default:
        throw new ApiError(405, 'badRequest', `method ${c.method} is not supported on ${path}`);
    }
  }

  private list(c: CallContext): unknown {
    let items = [...this.store.collection(c.scope, c.collection).values()];
    const filter = c.query.get('filter');
    if (filter) items = items.filter(filterPredicate(filter));
    items.sort((a, b) => a.name.localeCompare(b.name));
    const max = Math.min(Number(c.query.get('maxResults') ?? 500) || 500, 500, this.pageSize);
    const start = Number(c.query.get('pageToken') ?? 0) || 0;
    const page = items.slice(start, start + max);
    return {
      kind: `compute#${c.collection.replace(/s$/, '')}List`,
      id: `${c.scope}/${c.collection}`,
      items: page,
      selfLink: `https://www.googleapis.com/compute/v1/${c.scope}/${c.collection}`,
      ...(start + max < items.length ? { nextPageToken: String(start + max) } : {}),
    };
  }

  private operation(c: CallContext, type: string, target: string, finish: () => void): unknown {
    const existing = this.store.operationForRequest(requestKey(c));
    if (existing) return existing.op;
    return this.store.startOperation(c.scope, type, target, finish, {
      requestId: requestKey(c),
      error: c.operationError,
    }).op;
  }

  private insert(c: CallContext): unknown {
    const existing = this.store.operationForRequest(requestKey(c));
    if (existing) return existing.op;
    const body = c.body;
    const name = String(body.name ?? '');
    if (!NAME.test(name)) {
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    }
    const target = `${c.scope}/${c.collection}/${name}`;
    if (this.store.get(target)) throw new ApiError(409, 'alreadyExists', `The resource '${target}' already exists`);
    this.validateReferences(c, body);
    const common = {
      ...body,
      kind: `compute#${c.collection.replace(/s$/, '').replace(/ie$/, 'y')}`,
      creationTimestamp: new Date().toISOString(),
    };
    if (c.operationError) return this.operation(c, 'insert', target, () => undefined);
    switch (c.collection) {
      case 'instanceGroupManagers': {
        const mig = this.store.put(c.scope, c.collection, {
          ...common,
          zone: `https://www.googleapis.com/compute/v1/${c.scope}`,
          instanceGroup: `https://www.googleapis.com/compute/v1/${c.scope}/instanceGroups/${name}`,
          targetSize: Number(body.targetSize ?? 0),
          fingerprint: fingerprint(),
          currentActions: { none: Number(body.targetSize ?? 0) },
          status: { isStable: true },
        });
        this.store.put(c.scope, 'instanceGroups', {
          kind: 'compute#instanceGroup',
          name,
          namedPorts: body.namedPorts ?? [],
          zone: mig.zone,
        });
        this.guests.resizeNow(c.scope, mig);
        break;
      }
      case 'urlMaps':
        this.store.put(c.scope, c.collection, { ...common, fingerprint: fingerprint() });
        break;
      case 'forwardingRules':
        this.store.put(c.scope, c.collection, {
          ...common,
          IPAddress: body.IPAddress ?? `203.0.113.${this.nextAddress++}`,
          IPProtocol: body.IPProtocol ?? 'TCP',
        });
        break;
      case 'instances':
        throw new ApiError(400, 'unsupported', 'this fake creates instances only through managed instance groups');
      default:
        this.store.put(c.scope, c.collection, {
          ...common,
          ...(c.collection === 'backendServices' ? { fingerprint: fingerprint() } : {}),
        });
    }
    return this.operation(c, 'insert', target, () => undefined);
  }

  private validateReferences(c: CallContext, body: Record<string, unknown>): void {
    const must = (ref: unknown) => {
      const p = canonicalPath(String(ref ?? ''), c.project);
      if (
        !this.store.get(p) &&
        !(p.includes('/instanceGroups/') && this.store.get(p.replace('/instanceGroups/', '/instanceGroupManagers/')))
      ) {
        throw notFound(p);
      }
    };
    switch (c.collection) {
      case 'instanceGroupManagers':
        must(body.instanceTemplate);
        break;
      case 'backendServices': {
        const draining = (body.connectionDraining as { drainingTimeoutSec?: number } | undefined)?.drainingTimeoutSec;
        if (draining !== undefined && (!Number.isInteger(draining) || draining < 0 || draining > 3600)) {
          throw new ApiError(
            400,
            'invalid',
            `Invalid value for field 'resource.connectionDraining.drainingTimeoutSec': '${draining}'. Must be between 0 and 3600.`,
          );
        }
        for (const hc of (body.healthChecks as string[] | undefined) ?? []) must(hc);
        for (const b of (body.backends as Array<{ group: string }> | undefined) ?? []) must(b.group);
        break;
      }
      case 'urlMaps': {
        const weighted =
          (
            body.defaultRouteAction as
              { weightedBackendServices?: Array<{ backendService: string; weight: number }> } | undefined
          )?.weightedBackendServices ?? [];
        for (const w of weighted) {
          must(w.backendService);
          if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > 1000) {
            throw new ApiError(
              400,
              'invalid',
              `Invalid value for field 'resource.defaultRouteAction.weightedBackendServices[].weight': '${w.weight}'. Must be between 0 and 1000.`,
            );
          }
        }
        if (weighted.length === 0 && !body.defaultService) {
          throw new ApiError(
            400,
            'invalid',
            "Invalid value for field 'resource': a URL map needs a defaultService or defaultRouteAction.weightedBackendServices.",
          );
        }
        break;
      }
      case 'targetHttpProxies':
        must(body.urlMap);
        break;
      case 'forwardingRules':
        must(body.target);
        break;
      case 'instanceTemplates': {
        const items =
          (body.properties as { metadata?: { items?: Array<{ key: string; value?: string }> } } | undefined)?.metadata
            ?.items ?? [];
        for (const item of items) {
          // Compute Engine metadata: a value is at most 256 KB; all entries together at most 512 KB.
          if (Buffer.byteLength(item.value ?? '') > 256 * 1024) {
            throw new ApiError(
              400,
              'invalid',
              `Invalid value for field 'resource.properties.metadata.items[${item.key}].value': value exceeds 262144 bytes.`,
            );
          }
        }
        const total = items.reduce((n, i) => n + Buffer.byteLength(i.key) + Buffer.byteLength(i.value ?? ''), 0);
        if (total > 512 * 1024)
          throw new ApiError(
            400,
            'invalid',
            `Invalid value for field 'resource.properties.metadata': metadata exceeds 524288 bytes.`,
          );
        const image = declaredImage((body.properties as Record<string, unknown> | undefined)?.metadata);
        if (image !== null && image.trim() === '')
          throw new ApiError(400, 'invalid', 'container declaration names no image');
        break;
      }
    }
  }

  private remove(c: CallContext, path: string): unknown {
    const existing = this.store.operationForRequest(requestKey(c));
    if (existing) return existing.op;
    const r = this.store.require(path);
    const users = usersOf(this.store, r, c.collection);
    if (users.length > 0) {
      throw new ApiError(
        400,
        'resourceInUseByAnotherResource',
        `The ${singular[c.collection] ?? c.collection} resource '${path}' is already being used by '${pathOf(users[0])}'`,
      );
    }
    return this.operation(c, 'delete', path, () => {
      if (c.collection === 'instanceGroupManagers') {
        this.guests.deleteGroup(r);
        this.store.remove(`${c.scope}/instanceGroups/${r.name}`);
      }
      if (c.collection === 'instances') this.guests.deleteInstance(path);
      else this.store.remove(path);
    });
  }

  private update(c: CallContext, path: string): unknown {
    const existing = this.store.operationForRequest(requestKey(c));
    if (existing) return existing.op;
    const r = this.store.require(path);
    // URL maps and backend services: an update or patch must carry the fingerprint last read
    // (BackendService.fingerprint, UrlMap.fingerprint: "otherwise the request will fail with error 412 conditionNotMet").
    if ((c.collection === 'urlMaps' || c.collection === 'backendServices') && c.body.fingerprint !== r.fingerprint) {
      throw new ApiError(
        412,
        'conditionNotMet',
        `Invalid fingerprint. The resource '${path}' was modified since the fingerprint was read.`,
      );
    }
    const next = c.method === 'PUT' ? { ...c.body } : { ...r, ...c.body };
    this.validateReferences(c, next);
    if (c.operationError) return this.operation(c, c.method === 'PUT' ? 'update' : 'patch', path, () => undefined);
    const keep = { name: r.name, id: r.id, selfLink: r.selfLink, kind: r.kind, creationTimestamp: r.creationTimestamp };
    const updated = { ...next, ...keep, ...(r.fingerprint !== undefined ? { fingerprint: fingerprint() } : {}) };
    for (const k of Object.keys(r)) delete r[k];
    Object.assign(r, updated);
    return this.operation(c, c.method === 'PUT' ? 'update' : 'patch', path, () => undefined);
  }

  private customVerb(c: CallContext, path: string): unknown {
    const r = this.store.require(path);
    if (c.collection === 'backendServices' && c.verb === 'getHealth') {
      const group = canonicalPath(String(c.body.group ?? ''), c.project);
      const backends = ((r.backends as Array<{ group: string }> | undefined) ?? []).map((b) =>
        canonicalPath(b.group, c.project),
      );
      if (!backends.includes(group)) {
        throw new ApiError(
          400,
          'invalid',
          `Invalid value for field 'resource.group': '${group}'. Instance group is not a backend of backend service ${r.name}.`,
        );
      }
      const mig = this.store.get(group.replace('/instanceGroups/', '/instanceGroupManagers/'));
      const members = mig ? this.guests.members(mig) : [];
      const hasCheck = ((r.healthChecks as string[] | undefined) ?? []).length > 0;
      return {
        kind: 'compute#backendServiceGroupHealth',
        ...(members.length
          ? {
              healthStatus: members.map((m) => ({
                instance: m.selfLink,
                ipAddress: (m.networkInterfaces as Array<{ networkIP: string }>)[0]?.networkIP,
                port: namedPort(mig as Resource),
                healthState: hasCheck && this.guests.serving(pathOf(m)) ? 'HEALTHY' : 'UNHEALTHY',
              })),
            }
          : {}),
      };
    }
    if (c.collection === 'instanceGroupManagers' && c.verb === 'resize') {
      const size = Number(c.query.get('size'));
      if (!Number.isInteger(size) || size < 0)
        throw new ApiError(400, 'invalid', `Invalid value for field 'size': '${c.query.get('size')}'.`);
      const existing = this.store.operationForRequest(requestKey(c));
      if (existing) return existing.op;
      if (!c.operationError) {
        r.targetSize = size;
        this.guests.resizeNow(c.scope, r);
      }
      return this.operation(c, 'compute.instanceGroupManagers.resize', path, () => undefined);
    }
    if (c.collection === 'instanceGroupManagers' && c.verb === 'listManagedInstances') {
      return {
        managedInstances: this.guests.members(r).map((m) => ({
          instance: m.selfLink,
          id: m.id,
          instanceStatus: m.status,
          currentAction: m.status === 'RUNNING' ? 'NONE' : 'CREATING',
        })),
      };
    }
    throw new ApiError(400, 'badRequest', `unsupported method ${c.verb} on ${path}`);
  }

  /** `operations/NAME` get, delete and `wait` (returns when DONE or after a bounded time). */
  private operationCall(c: CallContext): unknown | Promise<unknown> {
    const record: OperationRecord | undefined = c.name ? this.store.operations.get(c.name) : undefined;
    if (!c.name)
      return {
        kind: 'compute#operationList',
        items: [...this.store.operations.values()].filter((o) => o.scope === c.scope).map((o) => o.op),
      };
    if (!record || record.scope !== c.scope) throw notFound(`${c.scope}/operations/${c.name}`);
    if (c.verb === 'wait') {
      if (record.op.status === 'DONE') return record.op;
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(record.op), 2000);
        record.waiters.push(() => {
          clearTimeout(timer);
          resolve(record.op);
        });
      });
    }
    if (c.method === 'DELETE') {
      this.store.operations.delete(c.name);
      return {};
    }
    return record.op;
  }
}

function requestKey(c: CallContext): string | null {
  const id = c.query.get('requestId');
  return id ? `${c.project}/${id}` : null;
}

function fingerprint(): string {
  return randomBytes(8).toString('base64');
}

function namedPort(mig: Resource): number {
  const ports = (mig.namedPorts as Array<{ port: number }> | undefined) ?? [];
  return ports[0]?.port ?? 80;
}

/** The filter subset the deployer and tests use: `FIELD = VALUE`, `FIELD != VALUE`, `FIELD eq REGEX`. */
export function filterPredicate(filter: string): (r: Resource) => boolean {
  const clauses = [
    ...filter.matchAll(/\(?\s*([A-Za-z][\w.-]*)\s*(=|!=|eq|ne)\s*"?([^"()]*?)"?\s*\)?(?=\s+AND\s+|\s*\(|\s*$)/gi),
  ];
  if (clauses.length === 0)
    throw new ApiError(
      400,
      'invalid',
      `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`,
    );
  return (r) =>
    clauses.every(([, field, op, value]) => {
      const actual = field
        .split('.')
        .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), r);
      const text = actual === undefined ? '' : String(actual);
      switch (op.toLowerCase()) {
        case '=':
          return text === value;
        case '!=':
          return text !== value;
        case 'eq':
          return new RegExp(`^(?:${value})$`).test(text);
        default:
          return !new RegExp(`^(?:${value})$`).test(text);
      }
    });
}
