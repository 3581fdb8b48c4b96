/**
 * The fake's object store: namespaced objects with uid, resourceVersion, generation and
 * managedFields, written through create / update / merge patch / server-side apply exactly
 * as BEHAVIOUR.md describes. Everything is in memory; one process, one "etcd".
 */
import { randomUUID } from 'node:crypto';
import {
  deepEqual,
  deletePath,
  describePath,
  fromFieldsV1,
  getPath,
  isPlainObject,
  keyPath,
  leafPaths,
  mergePatch,
  pathKey,
  setPath,
  toFieldsV1,
  type Obj,
} from './fields.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { parseFieldSelector, parseSelector } from './selectors.js';
import { ApiError, errors, status, type StatusCause } from './status.js';
import { checkApplyDuplicates } from './rules.js';
import { applyDefaults } from './defaults.js';
import { validate } from './validation.js';

interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  fields: Set<string>;
  time: string;
}

export interface WriteOptions {
  manager: string;
  /** `?dryRun=All`: everything a write does (defaults, validation, admission) except storing it. */
  dryRun?: boolean;
}

/** A watch event (BEHAVIOUR.md, "Watch"), with the resourceVersion it happened at. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  group: string;
  resource: string;
  namespace: string;
  rv: number;
  object: Obj;
}

/** Events kept for watches that resume from a resourceVersion; older ones are 410 Gone. */
const HISTORY = 5000;

const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class ObjectStore {
  private readonly objects = new Map<string, Obj>();
  private rv = 1000;
  private nextClusterIp = 10;
  readonly namespaces = new Set<string>(['default', 'kube-system']);
  readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  /** Every change from now on, until the returned function is called. */
  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(type: StoreEvent['type'], t: ResourceType, o: Obj): void {
    const meta = o.metadata as Obj;
    const e: StoreEvent = {
      type,
      group: t.group,
      resource: t.resource,
      namespace: String(meta.namespace ?? ''),
      rv: Number(meta.resourceVersion),
      object: structuredClone(o),
    };
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
    for (const fn of this.listeners) fn(e);
  }

  private key(t: ResourceType, ns: string, name: string): string {
    return `${t.group}|${t.resource}|${t.namespaced ? ns : ''}|${name}`;
  }

  private bump(): string {
    return String(++this.rv);
  }

  currentResourceVersion(): string {
    return String(this.rv);
  }

  requireNamespace(t: ResourceType, ns: string): void {
    if (t.namespaced && !this.namespaces.has(ns)) throw errors.notFound('namespaces', '', ns);
  }

  get(t: ResourceType, ns: string, name: string): Obj {
    const o = this.objects.get(this.key(t, ns, name));
    if (!o) throw errors.notFound(t.resource, t.group, name);
    return structuredClone(o);
  }

  find(t: ResourceType, ns: string, name: string): Obj | undefined {
    const o = this.objects.get(this.key(t, ns, name));
    return o ? structuredClone(o) : undefined;
  }

  list(
    t: ResourceType,
    ns: string | undefined,
    labelSelector: string | null,
    fieldSelector: string | null = null,
  ): Obj[] {
    const match = parseSelector(labelSelector);
    const fields = parseFieldSelector(t.kind, fieldSelector);
    const prefix = `${t.group}|${t.resource}|`;
    const out: Obj[] = [];
    for (const [k, o] of this.objects) {
      if (!k.startsWith(prefix)) continue;
      const meta = o.metadata as Obj;
      if (ns !== undefined && t.namespaced && meta.namespace !== ns) continue;
      if (!match(meta.labels as Record<string, string> | undefined) || !fields(o)) continue;
      out.push(structuredClone(o));
    }
    return out.sort((a, b) => String((a.metadata as Obj).name).localeCompare(String((b.metadata as Obj).name)));
  }

  create(t: ResourceType, ns: string, body: Obj, opts: WriteOptions): Obj {
    this.requireNamespace(t, ns);
    const obj = this.checkIdentity(t, ns, undefined, body);
    const name = String((obj.metadata as Obj).name);
    if (this.objects.has(this.key(t, ns, name))) throw errors.alreadyExists(t.resource, t.group, name);
    delete obj.status;
    const entries: ManagedEntry[] = [
      { manager: opts.manager, operation: 'Update', fields: leafPaths(obj), time: nowIso() },
    ];
    return this.persist(t, ns, undefined, obj, entries, opts.dryRun);
  }

  replace(t: ResourceType, ns: string, name: string, body: Obj, opts: WriteOptions): Obj {
    const live = this.get(t, ns, name);
    const obj = this.checkIdentity(t, ns, name, body);
    const sentRv = (obj.metadata as Obj).resourceVersion;
    if (sentRv !== undefined && sentRv !== (live.metadata as Obj).resourceVersion)
      throw errors.conflict(t.resource, t.group, name);
    return this.update(t, ns, live, obj, opts.manager, opts.dryRun);
  }

  /** merge-patch+json and (simplified, lists replaced whole) strategic-merge-patch+json. */
  mergePatch(t: ResourceType, ns: string, name: string, patch: Obj, opts: WriteOptions): Obj {
    const live = this.get(t, ns, name);
    const sentRv = (patch.metadata as Obj | undefined)?.resourceVersion;
    if (sentRv !== undefined && sentRv !== (live.metadata as Obj).resourceVersion)
      throw errors.conflict(t.resource, t.group, name);
    const merged = mergePatch(live, patch) as Obj;
    return this.update(t, ns, live, this.checkIdentity(t, ns, name, merged), opts.manager, opts.dryRun);
  }

  /** Server-side apply: creates when absent, merges by field ownership, 409 on conflicts unless forced. */
  apply(
    t: ResourceType,
    ns: string,
    name: string,
    body: Obj,
    opts: WriteOptions & { force: boolean },
  ): { obj: Obj; created: boolean } {
    this.requireNamespace(t, ns);
    const applied = this.checkIdentity(t, ns, name, body);
    delete applied.status;
    checkApplyDuplicates(t, applied, ns, name);
    const claimed = leafPaths(applied);
    const liveRaw = this.objects.get(this.key(t, ns, name));
    if (!liveRaw) {
      const entries: ManagedEntry[] = [{ manager: opts.manager, operation: 'Apply', fields: claimed, time: nowIso() }];
      return { obj: this.persist(t, ns, undefined, applied, entries, opts.dryRun), created: true };
    }
    const live = structuredClone(liveRaw);
    const entries = readManaged(live);
    const conflicts: Array<{ manager: string; path: string[] }> = [];
    for (const e of entries) {
      if (e.manager === opts.manager && e.operation === 'Apply') continue;
      for (const k of claimed) {
        if (!e.fields.has(k)) continue;
        const p = keyPath(k);
        if (!deepEqual(getPath(live, p), getPath(applied, p))) conflicts.push({ manager: e.manager, path: p });
      }
    }
    if (conflicts.length > 0 && !opts.force) throw conflictError(t, name, conflicts);
    for (const c of conflicts) for (const e of entries) if (e.manager === c.manager) e.fields.delete(pathKey(c.path));

    let own = entries.find((e) => e.manager === opts.manager && e.operation === 'Apply');
    if (!own) {
      own = { manager: opts.manager, operation: 'Apply', fields: new Set(), time: nowIso() };
      entries.push(own);
    }
    const merged = structuredClone(live);
    for (const k of own.fields) {
      if (claimed.has(k)) continue;
      const ownedElsewhere = entries.some((e) => e !== own && e.fields.has(k));
      if (!ownedElsewhere) deletePath(merged, keyPath(k));
    }
    for (const k of claimed) setPath(merged, keyPath(k), getPath(applied, keyPath(k)));
    const changedFields = !deepEqual([...own.fields].sort(), [...claimed].sort());
    own.fields = claimed;
    if (changedFields) own.time = nowIso();
    return { obj: this.persist(t, ns, live, merged, entries, opts.dryRun), created: false };
  }

  delete(t: ResourceType, ns: string, name: string, dryRun = false): Obj {
    const k = this.key(t, ns, name);
    const o = this.objects.get(k);
    if (!o) throw errors.notFound(t.resource, t.group, name);
    if (dryRun) return structuredClone(o);
    this.objects.delete(k);
    (o.metadata as Obj).resourceVersion = this.bump();
    this.emit('DELETED', t, o);
    return structuredClone(o);
  }

  /** What controllers do through the /status subresource: status only, no generation bump. */
  writeStatus(t: ResourceType, ns: string, name: string, newStatus: unknown): void {
    const o = this.objects.get(this.key(t, ns, name));
    if (!o || deepEqual(o.status, newStatus)) return;
    o.status = structuredClone(newStatus);
    (o.metadata as Obj).resourceVersion = this.bump();
    this.emit('MODIFIED', t, o);
  }

  /** Objects created by controllers (pods): no field manager, no validation round trip. */
  insertSystem(t: ResourceType, ns: string, obj: Obj): Obj {
    const meta = obj.metadata as Obj;
    Object.assign(meta, { uid: randomUUID(), creationTimestamp: nowIso(), resourceVersion: this.bump() });
    if (t.namespaced) meta.namespace = ns;
    this.objects.set(this.key(t, ns, String(meta.name)), structuredClone(obj));
    this.emit('ADDED', t, obj);
    return obj;
  }

  private update(t: ResourceType, ns: string, live: Obj, next: Obj, manager: string, dryRun = false): Obj {
    next.status = live.status;
    const entries = readManaged(live);
    const before = leafPaths(live);
    const after = leafPaths(next);
    const changed = [...new Set([...before, ...after])].filter(
      (k) => !deepEqual(getPath(live, keyPath(k)), getPath(next, keyPath(k))),
    );
    let own = entries.find((e) => e.manager === manager && e.operation === 'Update');
    if (!own && changed.length > 0) {
      own = { manager, operation: 'Update', fields: new Set(), time: nowIso() };
      entries.push(own);
    }
    for (const k of changed) {
      for (const e of entries) if (e !== own) e.fields.delete(k);
      if (after.has(k)) own!.fields.add(k);
      else own!.fields.delete(k);
    }
    if (own && changed.length > 0) own.time = nowIso();
    return this.persist(t, ns, live, next, entries, dryRun);
  }

  private checkIdentity(t: ResourceType, ns: string, urlName: string | undefined, body: Obj): Obj {
    if (!isPlainObject(body)) throw errors.badRequest('the body of the request must be an object');
    const obj = structuredClone(body);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(t)) {
      throw errors.badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== t.kind) {
      throw errors.badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${t.kind})`,
      );
    }
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    const meta = (isPlainObject(obj.metadata) ? obj.metadata : {}) as Obj;
    obj.metadata = meta;
    if (urlName !== undefined) {
      if (meta.name !== undefined && meta.name !== urlName) {
        throw errors.badRequest(
          `the name of the object (${String(meta.name)}) does not match the name on the URL (${urlName})`,
        );
      }
      meta.name = urlName;
    }
    if (typeof meta.name !== 'string' || meta.name === '') {
      throw new ApiError(
        status(
          422,
          'Invalid',
          `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
          {
            kind: t.kind,
            group: t.group,
            causes: [
              {
                reason: 'FieldValueRequired',
                message: 'Required value: name or generateName is required',
                field: 'metadata.name',
              },
            ],
          },
        ),
      );
    }
    if (t.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== ns) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = ns;
    }
    return obj;
  }

  /** Defaults, validation, generation and resourceVersion; a no-op write changes nothing. */
  private persist(
    t: ResourceType,
    ns: string,
    live: Obj | undefined,
    next: Obj,
    entries: ManagedEntry[],
    dryRun = false,
  ): Obj {
    applyDefaults(t, next, live, () => `10.96.0.${this.nextClusterIp++}`);
    validate(t, next, live);
    const meta = next.metadata as Obj;
    const liveMeta = (live?.metadata ?? {}) as Obj;
    for (const k of ['uid', 'creationTimestamp', 'generation', 'resourceVersion']) if (live) meta[k] = liveMeta[k];
    writeManaged(next, entries, apiVersionOf(t));
    if (live && deepEqual(live, next)) return structuredClone(live);
    if (!live) {
      meta.uid = randomUUID();
      meta.creationTimestamp = nowIso();
      if (t.hasSpec) meta.generation = 1;
    } else if (t.hasSpec && !deepEqual(live.spec, next.spec)) {
      meta.generation = Number(liveMeta.generation ?? 1) + 1;
    }
    if (dryRun) {
      // A dry run answers with what would be stored; nothing is stored, no version is used up.
      if (!live) delete meta.resourceVersion;
      return next;
    }
    meta.resourceVersion = this.bump();
    this.objects.set(this.key(t, ns, String(meta.name)), structuredClone(next));
    this.emit(live ? 'MODIFIED' : 'ADDED', t, next);
    return next;
  }
}

function readManaged(obj: Obj): ManagedEntry[] {
  const raw = (obj.metadata as Obj).managedFields;
  if (!Array.isArray(raw)) return [];
  return raw.map((e: Obj) => ({
    manager: String(e.manager),
    operation: e.operation === 'Apply' ? 'Apply' : 'Update',
    fields: fromFieldsV1(e.fieldsV1),
    time: String(e.time),
  }));
}

function writeManaged(obj: Obj, entries: ManagedEntry[], apiVersion: string): void {
  (obj.metadata as Obj).managedFields = entries
    .filter((e) => e.fields.size > 0)
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(e.fields),
    }));
}

function conflictError(t: ResourceType, name: string, conflicts: Array<{ manager: string; path: string[] }>): ApiError {
  const gv = apiVersionOf(t);
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with "${c.manager}" using ${gv}`,
    field: describePath(c.path),
  }));
  const lines = conflicts.map((c) => `conflict with "${c.manager}" using ${gv}: ${describePath(c.path)}`);
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: ${lines[0]}`
      : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  return new ApiError(status(409, 'Conflict', message, { name, group: t.group, kind: t.resource, causes }));
}
