/**
 * The wire formats both fakes speak: AWS Query requests (form-encoded, flattened lists) in,
 * XML out. EC2 flattens lists as `Name.N` and answers lists as `<item>`; ELBv2 (awsQuery)
 * flattens lists as `Name.member.N` and answers lists as `<member>`.
 */

export type Tree = { [key: string]: TreeValue };
export type TreeValue = string | Tree | TreeValue[];

/** `Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight=5` -> nested objects and arrays. */
export function unflatten(params: URLSearchParams): Tree {
  const root: Tree = {};
  for (const [key, value] of params) {
    const parts = key.split('.').filter((p) => p !== 'member');
    let node: Tree | TreeValue[] = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]);
      const slot: string | number = /^\d+$/.test(part) ? Number(part) - 1 : part;
      const container = node as Record<string | number, TreeValue>;
      if (last) {
        container[slot] = value;
        return;
      }
      if (container[slot] === undefined) container[slot] = nextIsIndex ? [] : {};
      node = container[slot] as Tree | TreeValue[];
    });
  }
  return compact(root) as Tree;
}

/** Sparse arrays (a client skipped an index) become dense. */
function compact(v: TreeValue): TreeValue {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(compact);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x)]));
  return v;
}

export function str(t: Tree | undefined, key: string): string | undefined {
  const v = t?.[key];
  return typeof v === 'string' ? v : undefined;
}

export function list(t: Tree | undefined, key: string): TreeValue[] {
  const v = t?.[key];
  return Array.isArray(v) ? v : [];
}

export function strings(t: Tree | undefined, key: string): string[] {
  return list(t, key).filter((x): x is string => typeof x === 'string');
}

export function trees(t: Tree | undefined, key: string): Tree[] {
  return list(t, key).filter((x): x is Tree => typeof x === 'object' && !Array.isArray(x));
}

/** A value to render: arrays repeat `itemTag`, undefined/null members are left out. */
export type XmlValue = string | number | boolean | null | undefined | XmlValue[] | { [k: string]: XmlValue };

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function toXml(tag: string, value: XmlValue, itemTag: string): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `<${tag}>${value.map((v) => toXml(itemTag, v, itemTag)).join('')}</${tag}>`;
  if (typeof value === 'object') {
    return `<${tag}>${Object.entries(value)
      .map(([k, v]) => toXml(k, v, itemTag))
      .join('')}</${tag}>`;
  }
  return `<${tag}>${escape(String(value))}</${tag}>`;
}
