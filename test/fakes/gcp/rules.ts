/**
 * What Compute Engine checks in a request body before it touches any resource: the published
 * model (schema.ts), then the fields the API reference marks required and the documented
 * ranges and formats. Each rule's source is cited here and in BEHAVIOUR.md ("Request validation").
 */
import { declaredImage } from './guest.js';
import { computeModel, validateMessage } from './schema.js';
import { ApiError } from './store.js';

/** The model message of each collection's resource body. */
export const MESSAGES: Record<string, string> = {
  instanceTemplates: 'InstanceTemplate',
  healthChecks: 'HealthCheck',
  backendServices: 'BackendService',
  urlMaps: 'UrlMap',
  targetHttpProxies: 'TargetHttpProxy',
  forwardingRules: 'ForwardingRule',
  instanceGroupManagers: 'InstanceGroupManager',
  instances: 'Instance',
};

/** Request message names use the method's own noun (global forwarding rules are `GlobalForwardingRule`). */
const METHOD_NOUN: Record<string, string> = { forwardingRules: 'GlobalForwardingRule' };

/** Whether the API has this method for the collection: `PatchUrlMapRequest`, `UpdateHealthCheckRequest`, ... */
export function hasMethod(verb: 'Patch' | 'Update', collection: string): boolean {
  const noun = METHOD_NOUN[collection] ?? MESSAGES[collection];
  return noun !== undefined && `${verb}${noun}Request` in computeModel().messages;
}

/** Whether the resource carries a `fingerprint` (BackendService, UrlMap, TargetHttpProxy, ...). */
export function hasFingerprint(collection: string): boolean {
  const message = computeModel().messages[MESSAGES[collection]];
  return message !== undefined && 'fingerprint' in message.fields;
}

const required = (path: string) => new ApiError(400, 'required', `Required field '${path}' not specified`);
const invalid = (path: string, value: unknown, why: string) =>
  new ApiError(400, 'invalid', `Invalid value for field '${path}': '${String(value)}'. ${why}`);

type Json = Record<string, unknown>;

/**
 * Checks a whole resource as it will be stored (an insert or update body, or a patch merged
 * into the current resource). `fresh`: an insert or a full replacement, where required fields
 * must be present in the body itself.
 */
export function checkResource(collection: string, body: Json, merged: Json, fresh: boolean): void {
  validateMessage(MESSAGES[collection], body);
  const r = fresh ? body : merged;
  if (fresh && !body.name) throw required('resource.name');
  switch (collection) {
    case 'instanceTemplates':
      return checkTemplate(r);
    case 'instanceGroupManagers':
      return checkGroupManager(r);
    case 'healthChecks':
      return checkHealthCheck(r);
    case 'backendServices':
      return checkBackendService(r);
    case 'urlMaps':
      return checkUrlMap(r);
    case 'targetHttpProxies':
      if (!r.urlMap) throw required('resource.urlMap');
      return;
    case 'forwardingRules':
      // A global forwarding rule sends to a target proxy (ForwardingRule.target, "must be a global target").
      if (!r.target) throw required('resource.target');
      if (r.portRange !== undefined && !/^\d{1,5}(-\d{1,5})?$/.test(String(r.portRange)))
        throw invalid('resource.portRange', r.portRange, 'Must be a port or a range PORT-PORT.');
      return;
  }
}

/** Labels: at most 64; keys `[a-z][a-z0-9_-]{0,62}`, values `[a-z0-9_-]{0,63}` (lowercase, international letters aside). */
function checkLabels(labels: unknown, path: string): void {
  const entries = Object.entries((labels ?? {}) as Record<string, string>);
  if (entries.length > 64) throw invalid(path, entries.length, 'A resource takes at most 64 labels.');
  for (const [k, v] of entries) {
    if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k))
      throw invalid(`${path}.${k}`, k, 'Label keys must match [a-z][a-z0-9_-]{0,62}.');
    if (!/^[a-z0-9_-]{0,63}$/.test(String(v)))
      throw invalid(`${path}.${k}`, v, 'Label values must match [a-z0-9_-]{0,63}.');
  }
}

function checkTemplate(t: Json): void {
  const props = (t.properties ?? {}) as Json;
  if (!t.properties) throw required('resource.properties');
  if (!props.machineType) throw required('resource.properties.machineType');
  const disks = (props.disks as Array<Json> | undefined) ?? [];
  if (!disks.some((d) => d.boot === true)) throw required('resource.properties.disks[].boot');
  checkLabels(props.labels, 'resource.properties.labels');
  const items = ((props.metadata as { items?: Array<{ key: string; value?: string }> } | undefined)?.items ?? []).map(
    (i) => ({ key: i.key, value: i.value ?? '' }),
  );
  // Metadata: keys [a-zA-Z0-9-_]{1,128}; a value at most 256 KB; all entries together at most 512 KB.
  for (const item of items) {
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(item.key))
      throw invalid(
        'resource.properties.metadata.items[].key',
        item.key,
        'Must be a match of regex [a-zA-Z0-9-_]{1,128}.',
      );
    if (Buffer.byteLength(item.value) > 256 * 1024) {
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'resource.properties.metadata.items[${item.key}].value': value exceeds 262144 bytes.`,
      );
    }
  }
  const total = items.reduce((n, i) => n + Buffer.byteLength(i.key) + Buffer.byteLength(i.value), 0);
  if (total > 512 * 1024)
    throw new ApiError(
      400,
      'invalid',
      `Invalid value for field 'resource.properties.metadata': metadata exceeds 524288 bytes.`,
    );
  const image = declaredImage(props.metadata);
  if (image !== null && image.trim() === '') throw new ApiError(400, 'invalid', 'container declaration names no image');
}

function checkGroupManager(g: Json): void {
  if (!g.instanceTemplate && !((g.versions as unknown[] | undefined) ?? []).length)
    throw required('resource.instanceTemplate');
  if (!g.baseInstanceName) throw required('resource.baseInstanceName');
  // InstanceGroupManager.baseInstanceName: 1-58 characters, [a-z]([-a-z0-9]{0,57}).
  if (!/^[a-z]([-a-z0-9]{0,57})$/.test(String(g.baseInstanceName)))
    throw invalid('resource.baseInstanceName', g.baseInstanceName, 'Must be a match of regex [a-z]([-a-z0-9]{0,57}).');
  if (g.targetSize === undefined) throw required('resource.targetSize');
  const size = Number(g.targetSize);
  // A zonal managed instance group holds at most 1,000 VMs.
  if (size < 0 || size > 1000) throw invalid('resource.targetSize', g.targetSize, 'Must be between 0 and 1000.');
}

function checkHealthCheck(h: Json): void {
  if (!h.type) throw required('resource.type');
  const between = (field: string, lo: number, hi: number) => {
    const v = h[field];
    if (v !== undefined && (Number(v) < lo || Number(v) > hi))
      throw invalid(`resource.${field}`, v, `Must be between ${lo} and ${hi}.`);
  };
  // HealthCheck: checkIntervalSec and timeoutSec 1-300, thresholds 1-10, timeout not over the interval.
  between('checkIntervalSec', 1, 300);
  between('timeoutSec', 1, 300);
  between('healthyThreshold', 1, 10);
  between('unhealthyThreshold', 1, 10);
  if (Number(h.timeoutSec ?? 5) > Number(h.checkIntervalSec ?? 5))
    throw invalid('resource.timeoutSec', h.timeoutSec, 'timeoutSec must be less than or equal to checkIntervalSec.');
  const type = String(h.type);
  const spec = `${type === 'HTTP2' ? 'http2' : type.toLowerCase()}HealthCheck`;
  if (['HTTP', 'HTTPS', 'HTTP2', 'TCP', 'SSL', 'GRPC'].includes(type) && !h[spec]) throw required(`resource.${spec}`);
}

function checkBackendService(b: Json): void {
  const draining = (b.connectionDraining as { drainingTimeoutSec?: number } | undefined)?.drainingTimeoutSec;
  if (draining !== undefined && (Number(draining) < 0 || Number(draining) > 3600)) {
    throw new ApiError(
      400,
      'invalid',
      `Invalid value for field 'resource.connectionDraining.drainingTimeoutSec': '${draining}'. Must be between 0 and 3600.`,
    );
  }
  for (const [i, backend] of ((b.backends as Json[] | undefined) ?? []).entries()) {
    if (!backend.group) throw required(`resource.backends[${i}].group`);
    // Backend.capacityScaler: 0, or 0.1 to 1.0; Backend.maxUtilization: 0.0 to 1.0.
    const scaler = backend.capacityScaler === undefined ? 1 : Number(backend.capacityScaler);
    if (!(scaler === 0 || (scaler >= 0.1 && scaler <= 1)))
      throw invalid(`resource.backends[${i}].capacityScaler`, scaler, 'Must be 0 or between 0.1 and 1.0.');
    const util = backend.maxUtilization === undefined ? 0.8 : Number(backend.maxUtilization);
    if (util < 0 || util > 1)
      throw invalid(`resource.backends[${i}].maxUtilization`, util, 'Must be between 0.0 and 1.0.');
  }
}

function checkUrlMap(m: Json): void {
  const weighted =
    (
      m.defaultRouteAction as
        { weightedBackendServices?: Array<{ backendService: string; weight: number }> } | undefined
    )?.weightedBackendServices ?? [];
  for (const w of weighted) {
    if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > 1000) {
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'resource.defaultRouteAction.weightedBackendServices[].weight': '${w.weight}'. Must be between 0 and 1000.`,
      );
    }
  }
  if (weighted.length === 0 && !m.defaultService) {
    throw new ApiError(
      400,
      'invalid',
      "Invalid value for field 'resource': a URL map needs a defaultService or defaultRouteAction.weightedBackendServices.",
    );
  }
}
