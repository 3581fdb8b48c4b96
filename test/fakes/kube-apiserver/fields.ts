/**
 * Field ownership for server-side apply (BEHAVIOUR.md, "Server-side apply"). A field is a path
 * of map keys; lists are atomic (owned and replaced whole), which is how the real apiserver
 * treats lists without `x-kubernetes-list-type: map` and a documented simplification for the
 * associative ones (containers, ports, env).
 */
export type Path = string[];
export type Obj = Record<string, unknown>;

const SEP = '\u0000';
export const pathKey = (p: Path): string => p.join(SEP);
export const keyPath = (k: string): Path => k.split(SEP);
/** `.spec.replicas`, `.metadata.labels.bp.dev/revision`: how the apiserver names fields in conflicts. */
export const describePath = (p: Path): string => '.' + p.join('.');

/** Fields the server owns: never part of anyone's field set. */
const SYSTEM_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'selfLink',
]);

export function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every leaf field an object sets: the field set an applier claims. */
export function leafPaths(obj: Obj): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, path: Path) => {
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
    } else if (v !== undefined) {
      out.add(pathKey(path));
    }
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata' && isPlainObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SYSTEM_METADATA.has(mk)) walk(mv, ['metadata', mk]);
      continue;
    }
    walk(v, [k]);
  }
  return out;
}

export function getPath(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export function setPath(obj: Obj, path: Path, value: unknown): void {
  let cur: Obj = obj;
  for (const k of path.slice(0, -1)) {
    if (!isPlainObject(cur[k])) cur[k] = {};
    cur = cur[k] as Obj;
  }
  cur[path[path.length - 1]] = structuredClone(value);
}

/** Removes a field and every map left empty above it. */
export function deletePath(obj: Obj, path: Path): void {
  const parents: Obj[] = [];
  let cur: Obj = obj;
  for (const k of path.slice(0, -1)) {
    if (!isPlainObject(cur[k])) return;
    parents.push(cur);
    cur = cur[k] as Obj;
  }
  delete cur[path[path.length - 1]];
  for (let i = parents.length - 1; i >= 0; i--) {
    const child = parents[i][path[i]];
    if (isPlainObject(child) && Object.keys(child).length === 0) delete parents[i][path[i]];
    else break;
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isPlainObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}

/** The `fieldsV1` encoding of a field set: nested `f:<key>` maps with `{}` leaves. */
export function toFieldsV1(fields: Set<string>): Obj {
  const root: Obj = {};
  for (const key of [...fields].sort()) {
    let cur = root;
    for (const k of keyPath(key)) {
      const fk = `f:${k}`;
      if (!isPlainObject(cur[fk])) cur[fk] = {};
      cur = cur[fk] as Obj;
    }
  }
  return root;
}

export function fromFieldsV1(v: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: Path) => {
    if (!isPlainObject(node) || Object.keys(node).length === 0) {
      if (path.length > 0) out.add(pathKey(path));
      return;
    }
    for (const [k, child] of Object.entries(node)) {
      if (k === '.') continue;
      walk(child, [...path, k.startsWith('f:') ? k.slice(2) : k]);
    }
  };
  walk(v, []);
  return out;
}

/** RFC 7386 JSON merge patch (also used, simplified, for strategic merge patches). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Obj = isPlainObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
