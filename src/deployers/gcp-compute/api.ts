/**
 * The Compute Engine calls bp makes, over the official SDK: get/list/insert/patch/update/delete
 * of the few collections it uses, each mutation sent with a `requestId` and its long-running
 * operation followed with `operations.wait` until DONE. Neither bp nor the SDK retries a call
 * here: bp's engine retries the verb (docs/deployers/gcp-compute.md, Provider calls), and every
 * verb is idempotent (an insert of what exists, a delete of what is gone, are done).
 */
import { randomUUID } from 'node:crypto';
import { AbortedError, ProviderError } from '../../model/errors.js';
import { throwIfAborted } from '../kit/abort.js';
import { failureOf, isAlreadyExists, isNotFound, providerError } from './errors.js';
import type { SdkClients } from './sdk.js';

export type Json = Record<string, unknown>;

export interface QuotaEntry {
  metric: string;
  limit: number;
  usage: number;
}

interface Kind {
  client: string;
  field: string;
  zonal: boolean;
}

export const KINDS = {
  instanceTemplates: { client: 'InstanceTemplatesClient', field: 'instanceTemplate', zonal: false },
  healthChecks: { client: 'HealthChecksClient', field: 'healthCheck', zonal: false },
  backendServices: { client: 'BackendServicesClient', field: 'backendService', zonal: false },
  urlMaps: { client: 'UrlMapsClient', field: 'urlMap', zonal: false },
  targetHttpProxies: { client: 'TargetHttpProxiesClient', field: 'targetHttpProxy', zonal: false },
  forwardingRules: { client: 'GlobalForwardingRulesClient', field: 'forwardingRule', zonal: false },
  instanceGroupManagers: { client: 'InstanceGroupManagersClient', field: 'instanceGroupManager', zonal: true },
  instances: { client: 'InstancesClient', field: 'instance', zonal: true },
  machineTypes: { client: 'MachineTypesClient', field: 'machineType', zonal: true },
} as const satisfies Record<string, Kind>;
export type KindName = keyof typeof KINDS;

/** One attempt per call: the engine retries, so the SDK's own retries are off. */
const CALL_OPTIONS = { timeout: 60_000, maxRetries: 0 };

/** Resolves or rejects with the promise, or rejects as soon as the signal aborts. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return p;
  throwIfAborted(signal, what);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(`${what} was aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A resource as the API sends it. The SDK's decoded messages also carry a `_field: "field"`
 * marker per optional field (protobufjs' synthetic oneofs); a body built from a read resource
 * (a full update) must not hand those back (the SDK drops unknown names without a word).
 */
export function apiShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(apiShape);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('_') && v === k.slice(1)) continue;
    out[k] = apiShape(v);
  }
  return out;
}

export class GceApi {
  constructor(
    private readonly clients: SdkClients,
    readonly project: string,
    readonly zone: string,
    private readonly operationTimeoutMs: number,
  ) {}

  /** `https://www.googleapis.com/compute/v1/...` link of a resource bp names. */
  link(kind: KindName, name: string): string {
    const k = KINDS[kind];
    return `https://www.googleapis.com/compute/v1/projects/${this.project}/${k.zonal ? `zones/${this.zone}` : 'global'}/${kind}/${name}`;
  }

  private scope(kind: KindName): Json {
    return KINDS[kind].zonal ? { project: this.project, zone: this.zone } : { project: this.project };
  }

  private async call(kind: KindName, method: string, request: Json, signal: AbortSignal | undefined): Promise<unknown> {
    const client = this.clients.get(KINDS[kind].client);
    const fn = client[method];
    const [response] = await abortable(
      fn.call(client, { ...this.scope(kind), ...request }, CALL_OPTIONS),
      signal,
      `${method} ${kind}`,
    );
    return response;
  }

  async get(kind: KindName, name: string, signal?: AbortSignal): Promise<Json | null> {
    return this.getInZone(kind, this.zone, name, signal);
  }

  /** A zonal resource of another zone than the deployer's (`get` for global kinds). */
  async getInZone(kind: KindName, zone: string, name: string, signal?: AbortSignal): Promise<Json | null> {
    const where = KINDS[kind].zonal ? { zone } : {};
    try {
      return apiShape(await this.call(kind, 'get', { [KINDS[kind].field]: name, ...where }, signal)) as Json;
    } catch (e) {
      if (isNotFound(failureOf(e))) return null;
      throw providerError(`get ${kind}/${name}`, e);
    }
  }

  async list(kind: KindName, filter: string | undefined, signal?: AbortSignal): Promise<Json[]> {
    const out: Json[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const client = this.clients.get(KINDS[kind].client);
        const request = {
          ...this.scope(kind),
          ...(filter ? { filter } : {}),
          ...(pageToken ? { pageToken } : {}),
          maxResults: 500,
        };
        const [items, , raw] = (await abortable(
          client.list.call(client, request, { ...CALL_OPTIONS, autoPaginate: false }),
          signal,
          `list ${kind}`,
        )) as [Json[], unknown, { nextPageToken?: string } | undefined];
        out.push(...(items ?? []).map((i) => apiShape(i) as Json));
        pageToken = raw?.nextPageToken || undefined;
      } while (pageToken);
    } catch (e) {
      throw providerError(`list ${kind}`, e);
    }
    return out;
  }

  /** Inserts and waits; an existing resource of that name counts as success (returns false). */
  async insert(kind: KindName, body: Json, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.mutate(kind, 'insert', { [`${KINDS[kind].field}Resource`]: body }, signal);
      return true;
    } catch (e) {
      if (isAlreadyExists(failureOf(e))) return false;
      throw providerError(`insert ${kind}/${String(body.name)}`, e);
    }
  }

  /** Deletes and waits; an already deleted resource counts as success (returns false). */
  async delete(kind: KindName, name: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.mutate(kind, 'delete', { [KINDS[kind].field]: name }, signal);
      return true;
    } catch (e) {
      if (isNotFound(failureOf(e))) return false;
      throw providerError(`delete ${kind}/${name}`, e);
    }
  }

  async patch(kind: KindName, name: string, body: Json, signal?: AbortSignal): Promise<void> {
    await this.mutateOrThrow(kind, 'patch', name, { [`${KINDS[kind].field}Resource`]: body }, signal);
  }

  /** Full replacement; for URL maps `body.fingerprint` must be the one last read (else 412). */
  async update(kind: KindName, name: string, body: Json, signal?: AbortSignal): Promise<void> {
    await this.mutateOrThrow(kind, 'update', name, { [`${KINDS[kind].field}Resource`]: body }, signal);
  }

  async resize(group: string, size: number, signal?: AbortSignal): Promise<void> {
    await this.mutateOrThrow('instanceGroupManagers', 'resize', group, { size }, signal);
  }

  /** `Region.quotas` of the zone's region, or `Project.quotas` (global ones): metric, limit, usage. */
  async quotas(scope: 'region' | 'project', signal?: AbortSignal): Promise<QuotaEntry[]> {
    return (await this.quotaHolder(scope, signal)).quotas ?? [];
  }

  /** The zone names of the zone's region (`Region.zones`). */
  async regionZones(signal?: AbortSignal): Promise<string[]> {
    return ((await this.quotaHolder('region', signal)).zones ?? []).map((z) => z.split('/').pop() as string);
  }

  private async quotaHolder(
    scope: 'region' | 'project',
    signal?: AbortSignal,
  ): Promise<{ quotas?: QuotaEntry[]; zones?: string[] }> {
    const region = this.zone.replace(/-[a-z]$/, '');
    const [client, request] =
      scope === 'region'
        ? (['RegionsClient', { project: this.project, region }] as const)
        : (['ProjectsClient', { project: this.project }] as const);
    try {
      const c = this.clients.get(client);
      const [r] = (await abortable(c.get.call(c, request, CALL_OPTIONS), signal, `get ${scope}`)) as [
        { quotas?: QuotaEntry[]; zones?: string[] },
      ];
      return r;
    } catch (e) {
      throw providerError(`get ${scope === 'region' ? `regions/${region}` : 'project'}`, e);
    }
  }

  /** Why the group last failed to create a VM (`listErrors`, newest first) at or after `since` (ms), or null. */
  async groupError(
    group: string,
    since: number,
    signal?: AbortSignal,
  ): Promise<{ code: string; message: string } | null> {
    try {
      const c = this.clients.get(KINDS.instanceGroupManagers.client);
      const request = { ...this.scope('instanceGroupManagers'), instanceGroupManager: group, maxResults: 1 };
      const [items] = (await abortable(
        c.listErrors.call(c, request, { ...CALL_OPTIONS, autoPaginate: false }),
        signal,
        `listErrors ${group}`,
      )) as [Array<{ timestamp?: string; error?: { code?: string; message?: string } }>];
      const latest = items?.[0];
      const error = latest && Date.parse(latest.timestamp ?? '') >= since ? latest.error : undefined;
      return error?.code ? { code: error.code, message: error.message ?? error.code } : null;
    } catch (e) {
      throw providerError(`listErrors instanceGroupManagers/${group}`, e);
    }
  }

  async getHealth(
    backendService: string,
    group: string,
    signal?: AbortSignal,
  ): Promise<Array<{ instance: string; ipAddress?: string; healthState?: string }>> {
    try {
      const r = (await this.call(
        'backendServices',
        'getHealth',
        {
          backendService,
          resourceGroupReferenceResource: { group },
        },
        signal,
      )) as { healthStatus?: Array<{ instance: string; ipAddress?: string; healthState?: string }> };
      return r.healthStatus ?? [];
    } catch (e) {
      throw providerError(`getHealth backendServices/${backendService}`, e);
    }
  }

  private async mutateOrThrow(
    kind: KindName,
    method: string,
    name: string,
    request: Json,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await this.mutate(kind, method, { [KINDS[kind].field]: name, ...request }, signal);
    } catch (e) {
      throw providerError(`${method} ${kind}/${name}`, e);
    }
  }

  /** One mutation, sent with a requestId (the API deduplicates a resent request), then followed to DONE. */
  private async mutate(kind: KindName, method: string, request: Json, signal?: AbortSignal): Promise<void> {
    const op = (await this.call(kind, method, { ...request, requestId: randomUUID() }, signal)) as {
      latestResponse?: Json;
    } & Json;
    await this.waitForOperation((op.latestResponse ?? op) as Json, signal);
  }

  /** Follows a zonal or global operation with `wait` until DONE; its error becomes the thrown failure. */
  private async waitForOperation(op: Json, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.operationTimeoutMs;
    const name = String(op.name);
    const zone = typeof op.zone === 'string' ? op.zone.split('/').pop() : undefined;
    let current = op;
    while (current.status !== 'DONE') {
      if (Date.now() > deadline) {
        throw new ProviderError(`operation ${name} did not finish within ${this.operationTimeoutMs / 1000} s`, {
          retryable: true,
        });
      }
      const client = this.clients.get(zone ? 'ZoneOperationsClient' : 'GlobalOperationsClient');
      const request = zone
        ? { project: this.project, zone, operation: name }
        : { project: this.project, operation: name };
      [current] = (await abortable(
        client.wait.call(client, request, CALL_OPTIONS),
        signal,
        `waiting for operation ${name}`,
      )) as [Json];
    }
    const errors = (current.error as { errors?: Array<{ code?: string; message?: string }> } | undefined)?.errors;
    if (errors && errors.length > 0) {
      const status = Number(current.httpErrorStatusCode ?? 400);
      throw Object.assign(new Error(errors.map((x) => x.message ?? x.code).join('; ')), {
        status,
        reason: errors[0].code ?? '',
      });
    }
  }
}
