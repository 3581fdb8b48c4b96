/**
 * Label selectors as `?labelSelector=` carries them (BEHAVIOUR.md, "Label selectors"):
 * equality-based (`=`, `==`, `!=`) and set-based (`in`, `notin`, `key`, `!key`) requirements,
 * comma-separated and ANDed.
 */
import { errors } from './status.js';

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside a `( ... )` value set. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(raw: string): Requirement {
  let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(raw);
  if (m) {
    const [, key, op, list] = m;
    const values = new Set(
      list
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    );
    return op === 'in' ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]);
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(raw);
  if (m) {
    const [, key, op, value] = m;
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = /^(!?)([A-Za-z0-9][A-Za-z0-9._/-]*)$/.exec(raw);
  if (m) {
    const [, not, key] = m;
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw errors.badRequest(`unable to parse requirement: found '${raw}', expected: in, notin, =, ==, !=, gt, lt`);
}

export function parseSelector(text: string | null): (labels: Record<string, string> | undefined) => boolean {
  if (!text) return () => true;
  const reqs = splitTopLevel(text).map(parseRequirement);
  return (labels) => reqs.every((r) => r(labels ?? {}));
}

/** Does a Service/Deployment `matchLabels`-style selector pick these labels? */
export function matchesMap(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/**
 * Field selectors as `?fieldSelector=` carries them: `=`, `==` and `!=` on the fields each
 * kind supports (every kind: metadata.name and metadata.namespace; pods also status.phase and
 * spec.nodeName), comma-separated and ANDed. Any other field is 400 "field label not supported".
 * ([field selectors](https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/))
 */
export function parseFieldSelector(kind: string, text: string | null): (o: Record<string, unknown>) => boolean {
  if (!text) return () => true;
  const involved = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map(
    (f) => `involvedObject.${f}`,
  );
  const supported = [
    'metadata.name',
    'metadata.namespace',
    ...(kind === 'Pod' ? ['status.phase', 'spec.nodeName'] : []),
    ...(kind === 'Event' ? [...involved, 'reason', 'source', 'type'] : []),
  ];
  const requirements = text.split(',').map((part) => {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const [, field, op, value] = m;
    if (!supported.includes(field)) throw errors.badRequest(`field label not supported: ${field}`);
    return (o: Record<string, unknown>) => {
      let cur: unknown = o;
      for (const k of field.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[k];
      const actual = cur === undefined || cur === null ? '' : String(cur);
      return op === '!=' ? actual !== value : actual === value;
    };
  });
  return (o) => requirements.every((r) => r(o));
}
