/**
 * ARM request routing and the asynchronous-operation protocol: PUT/DELETE of long-running
 * types answer 201/202 with `Azure-AsyncOperation` (and `Location`) headers; the operation's
 * status URL reports InProgress, then Succeeded or Failed with an ARM error.
 */
import type { Guests } from './guests.js';
import { TYPES, type ResourceType, type TypeContext } from './resources.js';
import { ArmError, type ArmResource, type AsyncOperation, type Json, notFound, type Store } from './store.js';
import { checkNameAndTags } from './limits.js';
import type { RequestSchemas } from './request-schemas.js';
import { CORES, checkSizeOffered, locationFilter, skuCatalog, type SkuRestriction } from './skus.js';
import { patchEndpoint, trafficManagerProfile } from './trafficmanager.js';
import { checkBody } from './wire-schema.js';

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Settings {
  opDelayMs: () => number;
  coresLimit: () => number;
  retryAfterSeconds: number;
  base: () => string;
  /** Most resources per list page; the rest follows through `nextLink` (ARM pages lists, ~1,000 VMs a page). */
  pageSize: () => number;
  /** The SDK models every PUT/PATCH body is checked against (loaded when the fake starts). */
  schemas: () => RequestSchemas;
  /** Sizes not offered in a location or zone (SkuNotAvailable). */
  skuRestrictions: () => SkuRestriction[];
}

const ALL_TYPES = [...TYPES, trafficManagerProfile];
export class ArmApi {
  private readonly groups = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly guests: Guests,
    private readonly settings: Settings,
  ) {}

  /** A resource group with a virtual network `bp-vnet` and subnet `apps`, as operators create once. */
  seedGroup(subscription: string, group: string, location: string): void {
    const groupId = `/subscriptions/${subscription}/resourceGroups/${group}`;
    this.groups.set(groupId.toLowerCase(), location);
    const vnet = `${groupId}/providers/Microsoft.Network/virtualNetworks/bp-vnet`;
    this.store.put({
      id: vnet,
      name: 'bp-vnet',
      type: 'Microsoft.Network/virtualNetworks',
      location,
      properties: { provisioningState: 'Succeeded', addressSpace: { addressPrefixes: ['10.0.0.0/16'] } },
    });
    this.store.put({
      id: `${vnet}/subnets/apps`,
      name: 'apps',
      type: 'Microsoft.Network/virtualNetworks/subnets',
      properties: { provisioningState: 'Succeeded', addressPrefix: '10.0.0.0/20' },
    });
  }

  private ctx(groupId: string): TypeContext {
    return {
      store: this.store,
      guests: this.guests,
      groupId,
      coresLimit: this.settings.coresLimit(),
      vmCores: (s) => CORES[s] ?? 2,
      checkSize: (size, location, zones) => checkSizeOffered(this.settings.skuRestrictions(), size, location, zones),
    };
  }

  handle(method: string, url: URL, raw: string, operationError?: { code: string; message: string }): Answer {
    if (!url.searchParams.get('api-version')) {
      throw new ArmError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    const path = url.pathname;
    const op =
      /^\/subscriptions\/[^/]+\/providers\/([^/]+)\/locations\/[^/]+\/(operations|operationResults)\/([^/]+)$/i.exec(
        path,
      );
    if (op && method === 'GET') return this.operation(op[3], op[2].toLowerCase() === 'operations', url);
    if (/^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/skus$/i.test(path) && method === 'GET') {
      const skus = skuCatalog(this.settings.skuRestrictions(), locationFilter(url.searchParams.get('$filter')));
      return this.paged(skus, (s) => `${String((s.locations as string[])[0])}/${String(s.name)}`.toLowerCase(), url);
    }
    if (/^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines$/i.test(path) && method === 'GET')
      return this.subscriptionVms(url);
    const m =
      /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+)\/providers\/([^/]+)\/([^/]+)(?:\/([^/]+)(?:\/(.+))?)?$/i.exec(
        path,
      );
    if (!m) throw new ArmError(404, 'InvalidResourceType', `The fake does not serve ${path}.`);
    const [, groupId, ns, typeName, name, rest] = m;
    const location = this.groups.get(groupId.toLowerCase());
    if (!location)
      throw new ArmError(
        404,
        'ResourceGroupNotFound',
        `Resource group '${groupId.split('/').pop()}' could not be found.`,
      );
    if (rest && name)
      return this.child(
        method,
        `${groupId}/providers/${ns}/${typeName}/${name}`,
        `${ns}/${typeName}`,
        rest,
        raw,
        groupId,
        url,
      );
    const type = ALL_TYPES.find((t) => t.type.toLowerCase() === `${ns}/${typeName}`.toLowerCase());
    if (!type)
      throw new ArmError(
        404,
        'InvalidResourceType',
        `The resource type '${typeName}' could not be found in the namespace '${ns}'.`,
      );
    const ctx = this.ctx(groupId);
    if (!name) {
      if (method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `${method} is not allowed on a collection.`);
      const all = this.store.list(type.type, groupId);
      if (type.unpaged)
        return { status: 200, body: { value: all.map((r) => this.view(type, r, ctx, url.searchParams)) } };
      return this.paged(
        all,
        (r) => String(r.id).toLowerCase(),
        url,
        (r) => this.view(type, r, ctx, url.searchParams),
      );
    }
    const id = `${groupId}/providers/${type.type}/${name}`;
    const existing = this.store.get(id);
    switch (method) {
      case 'GET':
        if (!existing) throw notFound(type.type, name, groupId.split('/').pop()!);
        return { status: 200, body: this.view(type, existing, ctx, url.searchParams) };
      case 'PUT':
        return this.put(type, id, name, this.checked(type.type, raw), existing, ctx, url, operationError);
      case 'DELETE':
        return this.delete(type, existing, ctx, url, operationError);
      default:
        throw new ArmError(405, 'MethodNotAllowed', `${method} is not served for ${type.type}.`);
    }
  }

  /**
   * `GET /subscriptions/S/providers/Microsoft.Compute/virtualMachines` (listAll), paged: every VM
   * of the subscription; with `statusOnly=true` each answers its id, name and run-time instance
   * view only, which is how ARM reports power state for many VMs in one list.
   */
  private subscriptionVms(url: URL): Answer {
    const type = ALL_TYPES.find((t) => t.type === 'Microsoft.Compute/virtualMachines')!;
    const statusOnly = url.searchParams.get('statusOnly') === 'true';
    const view = (r: ArmResource): Json =>
      statusOnly
        ? {
            id: r.id,
            name: r.name,
            type: r.type,
            location: r.location,
            properties: { instanceView: this.guests.instanceView(r) },
          }
        : this.view(type, r, this.ctx(r.id.split('/providers/')[0]), url.searchParams);
    return this.paged(this.store.list(type.type), (r) => r.id.toLowerCase(), url, view);
  }

  /**
   * One page of a list: at most `pageSize` items, then `nextLink` with a `$skiptoken`. The
   * continuation is a key, not an offset: items deleted between pages shift nothing. Keys are
   * ordered by code unit, as the `>` continuation compares them, and only the page's items are
   * rendered (`view`): rendering every item for every page made a 1,000-item list quadratic.
   */
  private paged<T extends Json>(
    items: T[],
    key: (item: T) => string,
    url: URL,
    view: (item: T) => Json = (x) => x,
  ): Answer {
    const after = url.searchParams.get('$skiptoken');
    const keyed = items.map((item) => ({ item, k: key(item) })).filter(({ k }) => after === null || k > after);
    const rest = keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0)).map(({ item }) => item);
    const page = rest.slice(0, this.settings.pageSize()).map(view);
    const next = new URL(`${this.settings.base()}${url.pathname}${url.search}`);
    if (page.length > 0) next.searchParams.set('$skiptoken', key(rest[page.length - 1]));
    return { status: 200, body: { value: page, ...(rest.length > page.length ? { nextLink: next.toString() } : {}) } };
  }

  /** The PUT body as the provider deserializes it: unknown members refused, read-only ones dropped. */
  private checked(type: string, raw: string): Json {
    const schema = this.settings.schemas().put.get(type.toLowerCase());
    return schema ? checkBody(parse(raw), schema) : parse(raw);
  }

  private view(type: ResourceType, r: ArmResource, ctx: TypeContext, query: URLSearchParams): Json {
    return type.view ? type.view(r, ctx, query) : structuredClone(r);
  }

  private put(
    type: ResourceType,
    id: string,
    name: string,
    body: Json,
    existing: ArmResource | undefined,
    ctx: TypeContext,
    url: URL,
    operationError?: { code: string; message: string },
  ): Answer {
    const state = existing?.properties.provisioningState;
    if (state === 'Deleting' || ((state === 'Creating' || state === 'Updating') && type.longRunning)) {
      throw new ArmError(
        409,
        'AnotherOperationInProgress',
        `Operation on ${type.type} '${name}' is not allowed because another operation is in progress (${String(state)}). Retry later.`,
        { 'Retry-After': '1' },
      );
    }
    checkNameAndTags(type.type, name, body.tags as Record<string, unknown> | undefined);
    const r = type.build(id, name, body, existing, ctx);
    if (!type.longRunning) {
      this.store.put(r);
      type.created?.(r, ctx, body);
      return { status: existing ? 200 : 201, body: this.view(type, r, ctx, url.searchParams) };
    }
    r.properties.provisioningState = existing ? 'Updating' : 'Creating';
    this.store.put(r);
    const op = this.store.startOperation(this.scope(type), this.settings.opDelayMs(), () => {
      if (operationError) {
        r.properties.provisioningState = 'Failed';
        throw new ArmError(409, operationError.code, operationError.message);
      }
      r.properties.provisioningState = 'Succeeded';
      type.created?.(r, ctx, body);
    });
    return {
      status: existing ? 200 : 201,
      body: this.view(type, r, ctx, url.searchParams),
      headers: this.asyncHeaders(op, url, false),
    };
  }

  private delete(
    type: ResourceType,
    r: ArmResource | undefined,
    ctx: TypeContext,
    url: URL,
    operationError?: { code: string; message: string },
  ): Answer {
    if (!r) return { status: 204 };
    type.checkDelete?.(r, ctx);
    if (!type.longRunning) {
      this.store.remove(r.id);
      type.deleted?.(r, ctx);
      return { status: 200 };
    }
    if (r.properties.provisioningState === 'Deleting') {
      throw new ArmError(409, 'AnotherOperationInProgress', `The resource '${r.name}' is being deleted.`, {
        'Retry-After': '1',
      });
    }
    const before = r.properties.provisioningState;
    r.properties.provisioningState = 'Deleting';
    const op = this.store.startOperation(this.scope(type), this.settings.opDelayMs(), () => {
      if (operationError) {
        r.properties.provisioningState = before;
        throw new ArmError(409, operationError.code, operationError.message);
      }
      this.store.remove(r.id);
      type.deleted?.(r, ctx);
    });
    return { status: 202, headers: this.asyncHeaders(op, url, true) };
  }

  /** Sub-resources and actions: VM instanceView / start / deallocate / powerOff, rule health, subnets, TM endpoints. */
  private child(
    method: string,
    parent: string,
    type: string,
    rest: string,
    raw: string,
    groupId: string,
    url: URL,
  ): Answer {
    const t = type.toLowerCase();
    const r = this.store.get(parent);
    if (t === 'microsoft.network/virtualnetworks' && /^subnets\/[^/]+$/i.test(rest) && method === 'GET') {
      const subnet = this.store.get(`${parent}/${rest}`);
      if (!subnet) throw notFound('Microsoft.Network/virtualNetworks/subnets', rest, groupId.split('/').pop()!);
      return { status: 200, body: subnet };
    }
    if (!r) throw notFound(type, parent.split('/').pop()!, groupId.split('/').pop()!);
    if (t === 'microsoft.compute/virtualmachines') {
      if (rest === 'instanceView' && method === 'GET') return { status: 200, body: this.guests.instanceView(r) };
      const transitions: Record<
        string,
        ['starting' | 'stopping' | 'deallocating', 'running' | 'stopped' | 'deallocated']
      > = {
        start: ['starting', 'running'],
        powerOff: ['stopping', 'stopped'],
        deallocate: ['deallocating', 'deallocated'],
      };
      const action = transitions[rest];
      if (action && method === 'POST') {
        const now = this.guests.power(r.id);
        if (!(rest === 'start' && (now === 'running' || now === 'starting'))) this.guests.setPower(r.id, action[0]);
        const op = this.store.startOperation('Microsoft.Compute', this.settings.opDelayMs(), () => {
          if (rest !== 'start') this.guests.setPower(r.id, action[1]);
        });
        return { status: 202, headers: this.asyncHeaders(op, url, true) };
      }
    }
    if (t === 'microsoft.network/loadbalancers' && method === 'POST') {
      const rule = /^loadBalancingRules\/([^/]+)\/health$/i.exec(rest)?.[1];
      const rules = (r.properties.loadBalancingRules as Array<{ name: string }> | undefined) ?? [];
      if (rule && !rules.some((x) => x.name.toLowerCase() === rule.toLowerCase()))
        throw notFound('loadBalancingRules', rule, groupId.split('/').pop()!);
      if (rule) {
        const op = this.store.startOperation('Microsoft.Network', this.settings.opDelayMs(), () =>
          this.guests.ruleHealth(r),
        );
        return {
          status: 202,
          headers: {
            Location: this.operationUrl(op, 'operationResults', url),
            'Retry-After': String(this.settings.retryAfterSeconds),
          },
        };
      }
    }
    if (t === 'microsoft.network/trafficmanagerprofiles') {
      const [kind, name] = rest.split('/');
      if (method === 'PATCH' && name)
        return {
          status: 200,
          body: patchEndpoint(r, kind, name, checkBody(parse(raw), this.settings.schemas().endpoint), (x) =>
            this.store.get(x),
          ),
        };
      const found = (r.properties.endpoints as Array<{ name: string; type: string }>).find(
        (e) => e.name.toLowerCase() === name?.toLowerCase() && e.type.toLowerCase().endsWith(`/${kind.toLowerCase()}`),
      );
      if (method === 'GET' && found) return { status: 200, body: found };
      if (method === 'GET') throw new ArmError(404, 'NotFound', `The endpoint '${name}' was not found.`);
    }
    throw new ArmError(404, 'InvalidResourceType', `The fake does not serve ${method} ${parent}/${rest}.`);
  }

  private scope(type: ResourceType): string {
    return type.type.split('/')[0];
  }

  private operationUrl(op: AsyncOperation, kind: 'operations' | 'operationResults', url: URL): string {
    const sub = url.pathname.split('/')[2];
    return `${this.settings.base()}/subscriptions/${sub}/providers/${op.scope}/locations/${[...this.groups.values()][0] ?? 'westeurope'}/${kind}/${op.id}?api-version=${url.searchParams.get('api-version')}`;
  }

  private asyncHeaders(op: AsyncOperation, url: URL, withLocation: boolean): Record<string, string> {
    return {
      'Azure-AsyncOperation': this.operationUrl(op, 'operations', url),
      ...(withLocation ? { Location: this.operationUrl(op, 'operationResults', url) } : {}),
      'Retry-After': String(this.settings.retryAfterSeconds),
    };
  }

  private operation(id: string, status: boolean, url: URL): Answer {
    const op = this.store.operations.get(id);
    if (!op) throw new ArmError(404, 'OperationNotFound', `The operation '${id}' was not found.`);
    if (status) {
      return {
        status: 200,
        body: {
          id: url.pathname,
          name: op.id,
          status: op.status,
          startTime: op.startTime,
          ...(op.endTime ? { endTime: op.endTime } : {}),
          ...(op.error ? { error: op.error } : {}),
        },
      };
    }
    if (op.status === 'InProgress')
      return {
        status: 202,
        headers: {
          Location: `${this.settings.base()}${url.pathname}${url.search}`,
          'Retry-After': String(this.settings.retryAfterSeconds),
        },
      };
    if (op.status === 'Failed')
      throw new ArmError(400, op.error?.code ?? 'Failed', op.error?.message ?? 'The operation failed.');
    return op.result ? { status: 200, body: op.result } : { status: 200 };
  }
}

function parse(raw: string): Json {
  if (raw.trim() === '') return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Json;
  } catch {
    throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
}
