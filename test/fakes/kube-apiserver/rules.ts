/**
 * Field rules of the API server's validation beyond the OpenAPI schema (BEHAVIOUR.md,
 * "Validation and defaults"), each a 422 `Invalid` cause, and the duplicate-key refusal of
 * server-side apply on associative lists.
 */
import { isPlainObject, type Obj } from './fields.js';
import type { ResourceType } from './resources.js';
import { ApiError, status, type StatusCause } from './status.js';

const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});

/** Associative lists (`x-kubernetes-list-type: map`) and their keys, per pod template or Service. */
interface ListMap {
  path: string;
  items: Obj[];
  keys: string[];
  /** Key fields the server defaults before comparing (protocol: TCP). */
  defaults?: Obj;
}

function listMaps(t: ResourceType, o: Obj): ListMap[] {
  const out: ListMap[] = [];
  const podSpec =
    t.kind === 'Deployment' ? obj(obj(obj(o.spec).template).spec) : t.kind === 'Pod' ? obj(o.spec) : undefined;
  const prefix = t.kind === 'Deployment' ? 'spec.template.spec' : 'spec';
  if (podSpec) {
    for (const list of ['containers', 'initContainers']) {
      const containers = arr(podSpec[list]);
      out.push({ path: `${prefix}.${list}`, items: containers, keys: ['name'] });
      containers.forEach((c) => {
        const at = `${prefix}.${list}[name="${String(c.name)}"]`;
        out.push({ path: `${at}.env`, items: arr(c.env), keys: ['name'] });
        out.push({
          path: `${at}.ports`,
          items: arr(c.ports),
          keys: ['containerPort', 'protocol'],
          defaults: { protocol: 'TCP' },
        });
      });
    }
  }
  if (t.kind === 'Service')
    out.push({
      path: 'spec.ports',
      items: arr(obj(o.spec).ports),
      keys: ['port', 'protocol'],
      defaults: { protocol: 'TCP' },
    });
  return out;
}

function keyOf(item: Obj, m: ListMap): string {
  return m.keys.map((k) => `${k}=${JSON.stringify(item[k] ?? m.defaults?.[k])}`).join(',');
}

/**
 * Server-side apply builds a typed object from the patch and refuses a list-map with two
 * entries of one key; the API server answers 500 (as kube-apiserver 1.2x does:
 * "failed to create typed patch object").
 */
export function checkApplyDuplicates(t: ResourceType, body: Obj, ns: string, name: string): void {
  for (const m of listMaps(t, body)) {
    const seen = new Set<string>();
    for (const item of m.items) {
      const key = keyOf(item, m);
      if (seen.has(key)) {
        const message =
          `failed to create typed patch object (${ns}/${name}; ${String(body.apiVersion)}, Kind=${t.kind}): ` +
          `.${m.path}: duplicate entries for key [${key}]`;
        throw new ApiError(status(500, 'InternalError', message));
      }
      seen.add(key);
    }
  }
}

/** Create/update: container names and Service ports must be unique (env duplicates only warn). */
export function listMapCauses(t: ResourceType, o: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const m of listMaps(t, o)) {
    if (m.path.endsWith('.env')) continue;
    const seen = new Set<string>();
    m.items.forEach((item, i) => {
      const key = keyOf(item, m);
      if (seen.has(key))
        causes.push({
          reason: 'FieldValueDuplicate',
          field: `${m.path.replace(/\[name=.*?\]/g, '')}[${i}]`,
          message: `Duplicate value: ${key}`,
        });
      seen.add(key);
    });
  }
  return causes;
}

function portCauses(field: string, port: unknown, allowName: boolean): StatusCause[] {
  if (typeof port === 'number') {
    return port >= 1 && port <= 65535
      ? []
      : [
          {
            reason: 'FieldValueInvalid',
            field,
            message: `Invalid value: ${port}: must be between 1 and 65535, inclusive`,
          },
        ];
  }
  if (allowName && typeof port === 'string' && port.length <= 15 && IANA_SVC_NAME.test(port)) return [];
  return [
    {
      reason: 'FieldValueInvalid',
      field,
      message: `Invalid value: ${JSON.stringify(port)}: must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters`,
    },
  ];
}

/** `128Mi` -> bytes, `250m` -> 0.25: enough of resource.Quantity to compare requests with limits. */
export function quantityValue(q: unknown): number | undefined {
  const m = /^([+-]?[0-9.]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(String(q));
  if (!m) return undefined;
  const scale: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
  };
  const suffix = m[2] ?? '';
  const exponent = /^[eE][+-]?\d+$/.test(suffix);
  return Number(m[1]) * (exponent ? 10 ** Number(suffix.slice(1)) : (scale[suffix] ?? 1));
}

function containerCauses(at: string, c: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  arr(c.ports).forEach((p, i) => causes.push(...portCauses(`${at}.ports[${i}].containerPort`, p.containerPort, false)));
  arr(c.env).forEach((e, i) => {
    if (typeof e.name !== 'string' || !ENV_NAME.test(e.name)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${at}.env[${i}].name`,
        message: `Invalid value: ${JSON.stringify(e.name)}: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`,
      });
    }
  });
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const port = obj(obj(c[probe]).httpGet).port;
    if (port !== undefined) causes.push(...portCauses(`${at}.${probe}.httpGet.port`, port, true));
  }
  const { requests, limits } = obj(c.resources) as { requests?: Obj; limits?: Obj };
  for (const [k, v] of Object.entries(obj(requests))) {
    const limit = obj(limits)[k];
    if (limit !== undefined && (quantityValue(v) ?? 0) > (quantityValue(limit) ?? Infinity)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${at}.resources.requests`,
        message: `Invalid value: "${String(v)}": must be less than or equal to ${k} limit of ${String(limit)}`,
      });
    }
  }
  return causes;
}

/** Field rules per kind. */
export function specCauses(t: ResourceType, o: Obj): StatusCause[] {
  const spec = obj(o.spec);
  const causes: StatusCause[] = [];
  if (t.kind === 'Deployment') {
    if (typeof spec.replicas === 'number' && spec.replicas < 0) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.replicas',
        message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`,
      });
    }
    arr(obj(obj(spec.template).spec).containers).forEach((c, i) =>
      causes.push(...containerCauses(`spec.template.spec.containers[${i}]`, c)),
    );
  }
  if (t.kind === 'Service') {
    arr(spec.ports).forEach((p, i) => {
      causes.push(...portCauses(`spec.ports[${i}].port`, p.port, false));
      if (p.targetPort !== undefined) causes.push(...portCauses(`spec.ports[${i}].targetPort`, p.targetPort, true));
    });
  }
  if (t.kind === 'HorizontalPodAutoscaler') {
    const min = Number(spec.minReplicas ?? 1);
    const max = Number(spec.maxReplicas);
    if (min < 1)
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.minReplicas',
        message: `Invalid value: ${min}: must be greater than or equal to 1`,
      });
    if (max < min)
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.maxReplicas',
        message: `Invalid value: ${max}: must be greater than or equal to \`minReplicas\``,
      });
  }
  if (t.kind === 'HTTPRoute') causes.push(...httpRouteCauses(spec));
  return causes;
}

/** The HTTPRoute CRD's OpenAPI rules (Gateway API v1, standard channel). */
function httpRouteCauses(spec: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  const bad = (field: string, message: string) => causes.push({ reason: 'FieldValueInvalid', field, message });
  const hostnames = Array.isArray(spec.hostnames) ? spec.hostnames : [];
  if (hostnames.length > 16) bad('spec.hostnames', `Too many: ${hostnames.length}: must have at most 16 items`);
  hostnames.forEach((h, i) => {
    if (typeof h !== 'string' || h.length > 253 || !HOSTNAME.test(h))
      bad(
        `spec.hostnames[${i}]`,
        `Invalid value: ${JSON.stringify(h)}: should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
      );
  });
  if (arr(spec.parentRefs).length > 32) bad('spec.parentRefs', 'Too many: must have at most 32 items');
  const rules = arr(spec.rules);
  if (rules.length > 16) bad('spec.rules', `Too many: ${rules.length}: must have at most 16 items`);
  rules.forEach((r, i) => {
    arr(r.matches).forEach((m, j) => {
      const path = obj(m.path);
      if (path.type !== undefined && !['Exact', 'PathPrefix', 'RegularExpression'].includes(String(path.type))) {
        bad(
          `spec.rules[${i}].matches[${j}].path.type`,
          `Unsupported value: ${JSON.stringify(path.type)}: supported values: "Exact", "PathPrefix", "RegularExpression"`,
        );
      }
      if (
        path.value !== undefined &&
        (typeof path.value !== 'string' || !path.value.startsWith('/') || path.value.length > 1024)
      ) {
        bad(
          `spec.rules[${i}].matches[${j}].path.value`,
          `Invalid value: ${JSON.stringify(path.value)}: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']`,
        );
      }
    });
    const refs = arr(r.backendRefs);
    if (refs.length > 16) bad(`spec.rules[${i}].backendRefs`, `Too many: ${refs.length}: must have at most 16 items`);
    refs.forEach((b, j) => {
      const at = `spec.rules[${i}].backendRefs[${j}]`;
      if (typeof b.name !== 'string' || b.name === '') bad(`${at}.name`, 'Required value');
      const weight = b.weight ?? 1;
      if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 1_000_000) {
        bad(`${at}.weight`, `Invalid value: ${JSON.stringify(weight)}: should be an integer between 0 and 1000000`);
      }
      const isService = (b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service';
      if (isService && b.port === undefined) bad(at, 'Invalid value: "object": Must have port for Service reference');
      if (b.port !== undefined) causes.push(...portCauses(`${at}.port`, b.port, false));
    });
  });
  return causes;
}
