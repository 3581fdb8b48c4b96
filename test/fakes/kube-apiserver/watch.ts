/**
 * `?watch=true` on a collection (BEHAVIOUR.md, "Watch"): a chunked HTTP response of one JSON
 * watch event per line, `{"type": "ADDED"|"MODIFIED"|"DELETED"|"ERROR", "object": ...}`.
 * Without `resourceVersion` (or with "0") the stream starts with a synthetic ADDED for every
 * matching object; with one, it replays the changes after that version (410 Expired as an
 * ERROR event when it is older than the kept history). Label and field selectors filter the
 * stream; an object that stops matching is sent as DELETED, one that starts as ADDED.
 * `timeoutSeconds` ends the stream. ([efficient detection of changes](https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes),
 * [watch event](https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/watch-event/))
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Obj } from './fields.js';
import type { ResourceType } from './resources.js';
import { parseFieldSelector, parseSelector } from './selectors.js';
import { status } from './status.js';
import type { ObjectStore, StoreEvent } from './store.js';

export function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  store: ObjectStore,
  t: ResourceType,
  namespace: string | undefined,
  q: URLSearchParams,
): void {
  // Selectors are parsed before the stream starts: a bad one is a plain 400.
  const labels = parseSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(t.kind, q.get('fieldSelector'));
  if (namespace !== undefined) store.requireNamespace(t, namespace);
  const matches = (o: Obj) => labels((o.metadata as Obj).labels as Record<string, string> | undefined) && fields(o);
  const inScope = (e: StoreEvent) =>
    e.group === t.group &&
    e.resource === t.resource &&
    (namespace === undefined || !t.namespaced || e.namespace === namespace);
  const keyOf = (o: Obj) => `${String((o.metadata as Obj).namespace ?? '')}/${String((o.metadata as Obj).name)}`;

  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const send = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + '\n');
  const matched = new Set<string>();
  const deliver = (e: StoreEvent) => {
    const key = keyOf(e.object);
    const now = e.type !== 'DELETED' && matches(e.object);
    const was = matched.has(key);
    if (e.type === 'DELETED') {
      if (was || matches(e.object)) send('DELETED', e.object);
      matched.delete(key);
    } else if (now) {
      send(was ? 'MODIFIED' : 'ADDED', e.object);
      matched.add(key);
    } else if (was) {
      send('DELETED', e.object);
      matched.delete(key);
    }
  };

  const rv = q.get('resourceVersion');
  if (rv === null || rv === '' || rv === '0') {
    for (const o of store.list(t, namespace, null)) {
      if (!matches(o)) continue;
      matched.add(keyOf(o));
      send('ADDED', o);
    }
  } else {
    const from = Number(rv);
    const oldest = store.history[0]?.rv ?? Number(store.currentResourceVersion()) + 1;
    if (!Number.isFinite(from) || from < oldest - 1) {
      send('ERROR', status(410, 'Expired', `too old resource version: ${rv} (${oldest - 1})`));
      res.end();
      return;
    }
    // Objects that matched at `from` are known to the client: replay sends MODIFIED/DELETED for them.
    const replay = store.history.filter((e) => e.rv > from && inScope(e));
    for (const o of store.list(t, namespace, null))
      if (matches(o) && Number((o.metadata as Obj).resourceVersion) <= from) matched.add(keyOf(o));
    const firsts = new Map<string, StoreEvent>();
    for (const e of replay) if (!firsts.has(keyOf(e.object))) firsts.set(keyOf(e.object), e);
    for (const [key, e] of firsts) if (e.type !== 'ADDED' && matches(e.object)) matched.add(key);
    for (const e of replay) deliver(e);
  }
  const unsubscribe = store.subscribe((e) => {
    if (inScope(e)) deliver(e);
  });
  const timeout = Number(q.get('timeoutSeconds') ?? 1800);
  const timer = setTimeout(() => res.end(), timeout * 1000);
  timer.unref();
  const stop = () => {
    clearTimeout(timer);
    unsubscribe();
  };
  res.on('close', stop);
  req.on('close', stop);
}
