/**
 * References between resources: those a resource names must exist when it is written (404
 * `notFound`), and a resource another one names cannot be deleted (400
 * `resourceInUseByAnotherResource`). BEHAVIOUR.md, "Resource rules".
 */
import { pathOf } from './guest.js';
import { ApiError, canonicalPath, LINK_BASE, notFound, type Resource, type Store } from './store.js';

type Json = Record<string, unknown>;

export function urlMapServices(map: Json): string[] {
  const action = map.defaultRouteAction as { weightedBackendServices?: Array<{ backendService: string }> } | undefined;
  return [
    ...(action?.weightedBackendServices ?? []).map((w) => w.backendService),
    ...(map.defaultService ? [String(map.defaultService)] : []),
  ];
}

/** The references a resource of `collection` holds, by what they point at. */
function referencesOf(collection: string, r: Json): string[] {
  switch (collection) {
    case 'instanceGroupManagers':
      return [String(r.instanceTemplate ?? '')];
    case 'backendServices':
      return [
        ...((r.healthChecks as string[] | undefined) ?? []),
        ...((r.backends as Array<{ group: string }> | undefined) ?? []).map((b) => b.group),
      ];
    case 'urlMaps':
      return urlMapServices(r);
    case 'targetHttpProxies':
      return [String(r.urlMap ?? '')];
    case 'forwardingRules':
      return [String(r.target ?? '')];
    default:
      return [];
  }
}

/** Which collection's resources can name a resource of `kind`. */
const USER_KIND: Record<string, string> = {
  instanceTemplates: 'instanceGroupManagers',
  healthChecks: 'backendServices',
  instanceGroupManagers: 'backendServices',
  backendServices: 'urlMaps',
  urlMaps: 'targetHttpProxies',
  targetHttpProxies: 'forwardingRules',
};

/** Throws 404 for the first reference of `body` that names nothing. */
export function requireReferences(store: Store, project: string, collection: string, body: Json): void {
  for (const ref of referencesOf(collection, body)) {
    const p = canonicalPath(ref, project);
    // An instance group is there while its managed instance group is.
    const group = p.includes('/instanceGroups/') && store.get(p.replace('/instanceGroups/', '/instanceGroupManagers/'));
    if (!store.get(p) && !group) throw notFound(p);
  }
}

/** Resources that name `target` (a backend service naming a MIG names its instance group). */
export function usersOf(store: Store, target: Resource, kind: string): Resource[] {
  const userKind = USER_KIND[kind];
  if (!userKind) return [];
  const project = pathOf(target).split('/')[1];
  const match = canonicalPath(
    kind === 'instanceGroupManagers' ? String(target.instanceGroup) : target.selfLink,
    project,
  );
  return store
    .all(userKind)
    .filter((u) => referencesOf(userKind, u).some((x) => x && canonicalPath(x, project) === match));
}

const SINGULAR: Record<string, string> = {
  instanceTemplates: 'instance_template',
  healthChecks: 'health_check',
  backendServices: 'backend_service',
  urlMaps: 'url_map',
  targetHttpProxies: 'target_http_proxy',
  forwardingRules: 'forwarding_rule',
  instanceGroupManagers: 'instance_group_manager',
  instances: 'instance',
};

export function inUse(collection: string, path: string, user: Resource): ApiError {
  return new ApiError(
    400,
    'resourceInUseByAnotherResource',
    `The ${SINGULAR[collection] ?? collection} resource '${path}' is already being used by '${pathOf(user)}'`,
  );
}

/** The API stores and returns every reference as a full URL, however the request spelled it. */
export function normalizeReferences(collection: string, body: Json, project: string): Json {
  const link = (ref: unknown) => (typeof ref === 'string' && ref ? `${LINK_BASE}${canonicalPath(ref, project)}` : ref);
  const out = structuredClone(body);
  switch (collection) {
    case 'instanceGroupManagers':
      out.instanceTemplate = link(out.instanceTemplate);
      break;
    case 'backendServices':
      if (Array.isArray(out.healthChecks)) out.healthChecks = out.healthChecks.map(link);
      for (const b of (out.backends as Json[] | undefined) ?? []) b.group = link(b.group);
      break;
    case 'urlMaps': {
      if (out.defaultService) out.defaultService = link(out.defaultService);
      const action = out.defaultRouteAction as { weightedBackendServices?: Json[] } | undefined;
      for (const w of action?.weightedBackendServices ?? []) w.backendService = link(w.backendService);
      break;
    }
    case 'targetHttpProxies':
      out.urlMap = link(out.urlMap);
      break;
    case 'forwardingRules':
      out.target = link(out.target);
      break;
  }
  return out;
}
