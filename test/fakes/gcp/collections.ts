/**
 * The Compute Engine collections the fake serves: list, get, insert, patch/update and delete,
 * each body checked against the published model and the API's rules (rules.ts), references
 * (references.ts), per-zone machine types (zones.ts) and quotas (quotas.ts) before anything
 * changes. BEHAVIOUR.md cites each rule.
 */
import { randomBytes } from 'node:crypto';
import type { Guests } from './guest.js';
import type { Quotas } from './quotas.js';
import { inUse, normalizeReferences, requireReferences, usersOf } from './references.js';
import { checkResource, hasFingerprint, hasMethod } from './rules.js';
import {
  ApiError,
  canonicalPath,
  LINK_BASE,
  notFound,
  type OperationRecord,
  paginate,
  requestKey,
  type Resource,
  type Store,
} from './store.js';
import { Verbs } from './verbs.js';
import { machineTypeName, machineTypeResource, offeredIn, regionOf, ZONES } from './zones.js';

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

type Json = Record<string, unknown>;

export interface CallContext {
  method: string;
  project: string;
  /** `projects/p/global`, `projects/p/zones/z`, `projects/p/regions/r` or `projects/p`. */
  scope: string;
  collection: string;
  name: string | null;
  verb: string | null;
  query: URLSearchParams;
  body: Json;
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
export const ZONAL_KINDS = ['instanceGroupManagers', 'instances', 'instanceGroups', 'operations', 'machineTypes'];

export class Collections {
  private nextAddress = 10;
  private readonly verbs: Verbs;

  /** Most items per list page (the API's cap is 500; small here so every list is paginated in tests). */
  pageSize = 5;

  constructor(
    private readonly store: Store,
    private readonly guests: Guests,
    private readonly quotas: Quotas,
  ) {
    this.verbs = new Verbs(
      store,
      guests,
      () => this.pageSize,
      (c, type, target) => this.operation(c, type, target, () => undefined),
    );
  }

  handle(c: CallContext): unknown {
    if (c.collection === 'operations') return this.operationCall(c);
    if (c.collection === 'project' || c.collection === 'region') return this.quotaHolder(c);
    if (c.collection === 'machineTypes') return this.machineTypes(c);
    const path = `${c.scope}/${c.collection}${c.name ? `/${c.name}` : ''}`;
    if (c.verb) return this.verbs.handle(c, path);
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
    const { page, nextPageToken } = paginate(items, c.query, this.pageSize);
    return {
      kind: `compute#${c.collection.replace(/s$/, '')}List`,
      id: `${c.scope}/${c.collection}`,
      items: page,
      selfLink: `${LINK_BASE}${c.scope}/${c.collection}`,
      ...(nextPageToken ? { nextPageToken } : {}),
    };
  }

  /** `projects.get` and `regions.get`: the quotas of the project or region, with usage. */
  private quotaHolder(c: CallContext): unknown {
    if (c.collection === 'project') {
      return { kind: 'compute#project', name: c.project, quotas: this.quotas.report(null) };
    }
    const region = String(c.name);
    const zones = ZONES.filter((z) => regionOf(z) === region);
    if (zones.length === 0) throw notFound(c.scope);
    return {
      kind: 'compute#region',
      name: region,
      status: 'UP',
      selfLink: `${LINK_BASE}${c.scope}`,
      zones: zones.map((z) => `${LINK_BASE}projects/${c.project}/zones/${z}`),
      quotas: this.quotas.report(region),
    };
  }

  /** `machineTypes.get` / `.list` of a zone: only the types that zone offers. */
  private machineTypes(c: CallContext): unknown {
    const zone = c.scope.split('/').pop() as string;
    if (c.method !== 'GET')
      throw new ApiError(405, 'badRequest', `method ${c.method} is not supported on machineTypes`);
    if (c.name) return machineTypeResource(c.project, zone, c.name);
    const names = ['e2-micro', 'e2-small', 'e2-medium', 'e2-standard-2', 'e2-standard-4', 'g2-standard-4'];
    const offered = names.filter((n) => offeredIn(n, zone)).map((n) => machineTypeResource(c.project, zone, n));
    const { page, nextPageToken } = paginate(offered, c.query, this.pageSize);
    return { kind: 'compute#machineTypeList', items: page, ...(nextPageToken ? { nextPageToken } : {}) };
  }

  private operation(c: CallContext, type: string, target: string, finish: () => void): unknown {
    const existing = this.store.operationForRequest(requestKey(c.project, c.query));
    if (existing) return existing.op;
    return this.store.startOperation(c.scope, type, target, finish, {
      requestId: requestKey(c.project, c.query),
      error: c.operationError,
    }).op;
  }

  private insert(c: CallContext): unknown {
    const existing = this.store.operationForRequest(requestKey(c.project, c.query));
    if (existing) return existing.op;
    const body = c.body;
    if (c.collection === 'instances')
      throw new ApiError(400, 'unsupported', 'this fake creates instances only through managed instance groups');
    checkResource(c.collection, body, body, true);
    const name = String(body.name);
    if (!NAME.test(name)) {
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    }
    const target = `${c.scope}/${c.collection}/${name}`;
    if (this.store.get(target)) throw new ApiError(409, 'alreadyExists', `The resource '${target}' already exists`);
    requireReferences(this.store, c.project, c.collection, body);
    if (c.collection === 'instanceGroupManagers') this.checkMachineType(c, body);
    if (c.operationError) return this.operation(c, 'insert', target, () => undefined);
    try {
      if (c.collection === 'instanceGroupManagers') this.quotas.checkGroupInsert(c.scope.split('/').pop() as string);
      else this.quotas.checkGlobalInsert(c.collection);
    } catch (quota) {
      // Quotas are judged when the operation runs: the insert is accepted and its operation fails.
      return this.operation(c, 'insert', target, () => {
        throw quota;
      });
    }
    this.create(c, name, body);
    return this.operation(c, 'insert', target, () => undefined);
  }

  private create(c: CallContext, name: string, request: Json): void {
    const body = normalizeReferences(c.collection, request, c.project);
    const common = {
      ...body,
      kind: `compute#${c.collection.replace(/s$/, '').replace(/ie$/, 'y')}`,
      creationTimestamp: new Date().toISOString(),
      ...(hasFingerprint(c.collection) ? { fingerprint: fingerprint() } : {}),
    };
    switch (c.collection) {
      case 'instanceGroupManagers': {
        const mig = this.store.put(c.scope, c.collection, {
          ...common,
          zone: `${LINK_BASE}${c.scope}`,
          instanceGroup: `${LINK_BASE}${c.scope}/instanceGroups/${name}`,
          targetSize: Number(body.targetSize ?? 0),
          currentActions: { none: 0, creating: Number(body.targetSize ?? 0) },
          status: { isStable: false },
        });
        this.store.put(c.scope, 'instanceGroups', {
          kind: 'compute#instanceGroup',
          name,
          namedPorts: body.namedPorts ?? [],
          zone: mig.zone,
          fingerprint: fingerprint(),
        });
        this.guests.resizeNow(c.scope, mig);
        return;
      }
      case 'forwardingRules':
        this.store.put(c.scope, c.collection, {
          ...common,
          IPAddress: body.IPAddress ?? `203.0.113.${this.nextAddress++}`,
          IPProtocol: body.IPProtocol ?? 'TCP',
          labelFingerprint: fingerprint(),
        });
        return;
      default:
        this.store.put(c.scope, c.collection, common);
    }
  }

  /** A zonal MIG refuses a template whose machine type its zone does not offer (zones.ts). */
  private checkMachineType(c: CallContext, body: Json): void {
    const zone = c.scope.split('/').pop() as string;
    const template = this.store.get(canonicalPath(String(body.instanceTemplate), c.project));
    const type = machineTypeName((template?.properties as Json | undefined)?.machineType);
    if (template && !offeredIn(type, zone)) {
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'resource.instanceTemplate': '${String(body.instanceTemplate)}'. ` +
          `Machine type with name '${type}' does not exist in zone '${zone}'.`,
      );
    }
  }

  private remove(c: CallContext, path: string): unknown {
    const existing = this.store.operationForRequest(requestKey(c.project, c.query));
    if (existing) return existing.op;
    const r = this.store.require(path);
    const users = usersOf(this.store, r, c.collection);
    if (users.length > 0) throw inUse(c.collection, path, users[0]);
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
    const existing = this.store.operationForRequest(requestKey(c.project, c.query));
    if (existing) return existing.op;
    const replace = c.method === 'PUT';
    if (!hasMethod(replace ? 'Update' : 'Patch', c.collection))
      throw new ApiError(405, 'badRequest', `${c.collection} has no ${replace ? 'update (PUT)' : 'patch'} method`);
    const r = this.store.require(path);
    this.checkFingerprint(c, r, path);
    const next = replace ? { ...c.body } : (mergePatch(r, c.body) as Json);
    checkResource(c.collection, c.body, next, replace);
    requireReferences(this.store, c.project, c.collection, next);
    const type = replace ? 'update' : 'patch';
    if (c.operationError) return this.operation(c, type, path, () => undefined);
    const keep = { name: r.name, id: r.id, selfLink: r.selfLink, kind: r.kind, creationTimestamp: r.creationTimestamp };
    const updated = {
      ...normalizeReferences(c.collection, next, c.project),
      ...keep,
      ...(r.fingerprint !== undefined ? { fingerprint: fingerprint() } : {}),
    };
    for (const k of Object.keys(r)) delete r[k];
    Object.assign(r, updated);
    if (c.collection === 'instanceGroupManagers') this.guests.resizeNow(c.scope, r);
    return this.operation(c, type, path, () => undefined);
  }

  /**
   * Backend services and URL maps: an update or patch must carry the fingerprint last read;
   * other resources with a fingerprint check it when one is sent. A stale one is 412
   * (BackendService.fingerprint, UrlMap.fingerprint: "otherwise the request will fail with error 412 conditionNotMet").
   */
  private checkFingerprint(c: CallContext, r: Resource, path: string): void {
    if (!hasFingerprint(c.collection)) return;
    const mandatory = c.collection === 'urlMaps' || c.collection === 'backendServices';
    if ((mandatory || c.body.fingerprint !== undefined) && c.body.fingerprint !== r.fingerprint) {
      throw new ApiError(
        412,
        'conditionNotMet',
        `Invalid fingerprint. The resource '${path}' was modified since the fingerprint was read.`,
      );
    }
  }

  /** `operations/NAME` get, delete and `wait` (returns when DONE or after a bounded time); list pages. */
  private operationCall(c: CallContext): unknown {
    const record: OperationRecord | undefined = c.name ? this.store.operations.get(c.name) : undefined;
    if (!c.name) {
      const ops = [...this.store.operations.values()].filter((o) => o.scope === c.scope).map((o) => o.op);
      const { page, nextPageToken } = paginate(ops, c.query, this.pageSize);
      return { kind: 'compute#operationList', items: page, ...(nextPageToken ? { nextPageToken } : {}) };
    }
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

/** JSON merge patch (RFC 7396), what `patch` methods apply: objects merge, null removes, arrays replace. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function fingerprint(): string {
  return randomBytes(8).toString('base64');
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
