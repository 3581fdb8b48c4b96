/**
 * Overlays: `bp plan base.yaml --overlay prod.yaml`. Each overlay is merged onto the result so
 * far: mappings (deployers, configs, vars) deep-merge, `deployments` merge by `deployment_id`
 * and their `revisions` by `revision_id` (new ones are appended), any other list (traffic,
 * rollout steps, command) and every scalar is replaced whole.
 *
 * The merge remembers where each replaced value came from, so a problem found in the merged
 * value is reported at the file, line and column an operator wrote it.
 */
import type { JsonPath } from './paths.js';

/** Which source (0 = the base file, 1.. the overlays in order) and the path inside it. */
export interface Origin {
  src: number;
  path: JsonPath;
}

/** Where each value of a merged document came from. */
export class Origins {
  // For each object or array created by the merge: origins of the children that were put there
  // from another place than "the same path below the parent's origin".
  private readonly children = new WeakMap<object, Map<string | number, Origin>>();
  merged: unknown;

  constructor(merged: unknown) {
    this.merged = merged;
  }

  set(node: object, key: string | number, origin: Origin): void {
    let m = this.children.get(node);
    if (!m) this.children.set(node, (m = new Map()));
    m.set(key, origin);
  }

  /** `to` is a copy of `from`: it inherits the origins recorded for `from`'s children. */
  copied(from: object, to: object): void {
    const m = this.children.get(from);
    if (m) this.children.set(to, new Map(m));
  }

  /** The source and path a path of the merged document came from (deepest known). */
  originOf(path: JsonPath): Origin {
    let origin: Origin = { src: 0, path: [] };
    let node: unknown = this.merged;
    for (const seg of path) {
      const explicit = node !== null && typeof node === 'object' ? this.children.get(node)?.get(seg) : undefined;
      origin = explicit
        ? { src: explicit.src, path: [...explicit.path] }
        : { src: origin.src, path: [...origin.path, seg] };
      node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[seg] : undefined;
    }
    return origin;
  }
}

const KEYED_LISTS: Record<string, string> = { deployments: 'deployment_id', revisions: 'revision_id' };

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/**
 * Merges `overlays` (values of parsed overlay files, index i is source i + 1) onto `base`.
 * Never mutates its inputs.
 */
export function mergeOverlays(base: unknown, overlays: readonly unknown[]): Origins {
  const origins = new Origins(base);
  let merged = base;
  overlays.forEach((overlay, i) => {
    merged = mergeValue(merged, overlay, { src: i + 1, path: [] }, undefined, origins);
  });
  origins.merged = merged;
  return origins;
}

function mergeValue(base: unknown, over: unknown, at: Origin, listKey: string | undefined, origins: Origins): unknown {
  if (isMapping(base) && isMapping(over)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(base)) setOwn(out, k, base[k]);
    origins.copied(base, out);
    for (const k of Object.keys(over)) {
      const childAt: Origin = { src: at.src, path: [...at.path, k] };
      const merged = Object.hasOwn(base, k) ? mergeValue(base[k], over[k], childAt, k, origins) : over[k];
      setOwn(out, k, merged);
      if (merged === over[k]) origins.set(out, k, childAt);
    }
    return out;
  }
  const idKey = listKey !== undefined ? KEYED_LISTS[listKey] : undefined;
  if (idKey && Array.isArray(base) && Array.isArray(over)) {
    const out = base.slice();
    origins.copied(base, out);
    over.forEach((item, j) => {
      const itemAt: Origin = { src: at.src, path: [...at.path, j] };
      const id = isMapping(item) ? item[idKey] : undefined;
      const i = typeof id === 'string' ? out.findIndex((b) => isMapping(b) && b[idKey] === id) : -1;
      if (i === -1) {
        out.push(item);
        origins.set(out, out.length - 1, itemAt);
      } else {
        // The merged item keeps pointing at the base item; what the overlay set points at the overlay.
        out[i] = mergeValue(out[i], item, itemAt, undefined, origins);
      }
    });
    return out;
  }
  return over;
}
