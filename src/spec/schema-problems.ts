/**
 * Rewrites ajv's errors into operator language: which key, in which revision, what was
 * expected and what was found. Shared by the environment schema and deployer config schemas.
 */
import type { ErrorObject } from 'ajv';
import { containerOf, describeLocation, quote, subjectOf, valueAt, type JsonPath, type PathProblem } from './paths.js';

/** Messages for the named string formats of schemas/environment.schema.json, keyed by `$defs` name. */
const PATTERN_HINTS: Record<string, (subject: string, value: unknown) => string> = {
  id: (s, v) =>
    `${s} must be a valid id (1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit), got ${show(v)}`,
  duration: (s, v) => `${s} must be a duration like 30s, 15m, 2h or 7d, got ${show(v)}`,
  listen: (s, v) =>
    `${s} must be host:port (an IPv4 address, a [bracketed] IPv6 address or a hostname, and a port 1-65535), got ${show(v)}`,
  httpPath: (s, v) => `${s} must be a path starting with "/", got ${show(v)}`,
  // Webhook URLs often embed a token, so the value is not repeated.
  url: (s) => `${s} must be an http:// or https:// URL`,
};

/** What a mapping key must look like, for `propertyNames` patterns. */
const KEY_RULES: Record<string, string> = {
  id: 'is not a valid name: use 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
  envName: 'is not a valid environment variable name: use letters, digits and "_", not starting with a digit',
};

export interface SchemaProblemOptions {
  /** The whole environment value, for naming deployments and revisions. */
  root: unknown;
  /** The value that was validated (the environment itself, or one deployer's config). */
  data: unknown;
  /** Where `data` sits inside `root`. */
  basePath?: JsonPath;
  /** Pattern source -> `$defs` name, for the friendly messages above. */
  patternNames?: ReadonlyMap<string, string>;
}

export function schemaProblems(errors: readonly ErrorObject[], opts: SchemaProblemOptions): PathProblem[] {
  const out: PathProblem[] = [];
  for (const e of errors) {
    // Branch details of oneOf/anyOf and the wrapper of propertyNames are summarized elsewhere.
    if (/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath) || e.keyword === 'propertyNames' || e.keyword === 'if') continue;
    const local = pointerToPath(e.instancePath, opts.data);
    const path = [...(opts.basePath ?? []), ...local];
    out.push(rewrite(e, path, opts));
  }
  return out;
}

function rewrite(e: ErrorObject, path: JsonPath, opts: SchemaProblemOptions): PathProblem {
  const { root } = opts;
  const value = valueAt(opts.data, pointerToPath(e.instancePath, opts.data));
  const subject = subjectOf(root, path);
  const params = e.params as Record<string, unknown>;
  const propertyName = (e as { propertyName?: string }).propertyName;

  if (propertyName !== undefined) {
    const keyPath = [...path, propertyName];
    const name = e.keyword === 'pattern' ? opts.patternNames?.get(String(params.pattern)) : undefined;
    const keySubject = `key ${quote(propertyName)} in ${containerOf(root, path)}`;
    const rule = name ? KEY_RULES[name] : undefined;
    return {
      path: keyPath,
      at: 'key',
      message: `${keySubject} ${rule ?? `is not allowed: ${e.message ?? 'invalid name'}`}`,
    };
  }

  switch (e.keyword) {
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(params.additionalProperty ?? params.unevaluatedProperty);
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closest(key, known);
      return {
        path: [...path, key],
        at: 'key',
        message: `unknown key ${quote(key)} in ${containerOf(root, path)}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`,
      };
    }
    case 'required':
      return {
        path,
        message: `missing required key ${quote(String(params.missingProperty))} in ${containerOf(root, path)}`,
      };
    case 'dependentRequired':
      return {
        path,
        message: `key ${quote(String(params.property))} in ${containerOf(root, path)} requires key ${quote(String(params.missingProperty))}`,
      };
    case 'type': {
      const expected = String(params.type).split(',').map(typePhrase).join(' or ');
      const hint =
        params.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? ' (quote the value)'
          : '';
      return { path, message: `${subject} must be ${expected}, got ${typeOfValue(value)}${hint}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      return { path, message: `${subject} must be one of ${allowed.join(', ')}, got ${show(value)}` };
    }
    case 'const':
      return { path, message: `${subject} must be ${JSON.stringify(params.allowedValue)}, got ${show(value)}` };
    case 'pattern': {
      const name = opts.patternNames?.get(String(params.pattern));
      const hint = name ? PATTERN_HINTS[name] : undefined;
      return {
        path,
        message: hint ? hint(subject, value) : `${subject} must match the pattern ${String(params.pattern)}`,
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path,
        message: `${subject} must be ${String(params.comparison)} ${String(params.limit)}, got ${show(value)}`,
      };
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'maxLength':
    case 'minProperties':
    case 'maxProperties':
      return { path, message: `${subject} ${sizeRule(e.keyword, Number(params.limit))}` };
    case 'uniqueItems':
      return {
        path,
        message: `${subject} must not repeat an item (items #${Number(params.j) + 1} and #${Number(params.i) + 1} are equal)`,
      };
    case 'oneOf':
      return { path, message: exactlyOneMessage(e, path, value, opts) };
    case 'anyOf':
      return { path, message: `${subject} does not match any of the allowed forms` };
    case 'not':
      return { path, message: `${subject} has a form that is not allowed` };
    default:
      return { path, message: `${subject} ${e.message ?? 'is invalid'}` };
  }
}

/** `artifact must have exactly one of command, image, binary (revision "web-v1" has none)`. */
function exactlyOneMessage(e: ErrorObject, path: JsonPath, value: unknown, opts: SchemaProblemOptions): string {
  const branches = ((e.parentSchema as { oneOf?: unknown[] } | undefined)?.oneOf ?? []) as { required?: string[] }[];
  const names = branches.map((b) => (b.required?.length === 1 ? b.required[0] : undefined));
  const { entity, field } = describeLocation(opts.root, path);
  const what = field === '' ? entity : field;
  if (names.some((n) => n === undefined))
    return `${subjectOf(opts.root, path)} must match exactly one of the allowed forms`;
  const present = names.filter((n) => value !== null && typeof value === 'object' && n! in value);
  const has = present.length === 0 ? 'none' : present.join(' and ');
  const owner = field === '' || entity === 'the environment' ? 'it' : entity;
  return `${what} must have exactly one of ${names.join(', ')} (${owner} has ${has})`;
}

/** What a list, string or mapping must hold, for the min/max size keywords ("must have at most 3 items"). */
function sizeRule(keyword: string, limit: number): string {
  if (limit === 1 && (keyword === 'minItems' || keyword === 'minLength')) return 'must not be empty';
  const bound = keyword.startsWith('min') ? 'at least' : 'at most';
  if (keyword.endsWith('Items')) return `must have ${bound} ${limit} items`;
  if (keyword.endsWith('Length')) return `must be ${bound} ${limit} characters long`;
  return `must have ${bound} ${limit} keys`;
}

/** JSON pointer -> typed path (array indexes become numbers, as the locator expects). */
export function pointerToPath(pointer: string, data: unknown): JsonPath {
  if (pointer === '') return [];
  const path: JsonPath = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const i = Number(seg);
      path.push(i);
      node = node[i];
    } else {
      path.push(seg);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return path;
}

function typePhrase(t: string): string {
  switch (t) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return `a ${t}`;
  }
}

/** The kind of value found, never the value itself (it may be a secret). */
export function typeOfValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'a non-finite number (.inf or .nan)';
    return Number.isInteger(v) ? 'a number' : 'a fractional number';
  }
  if (typeof v === 'boolean') return 'true/false';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

function show(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeOfValue(v);
}

/** The known key an unknown key was most likely meant to be (edit distance <= 2). */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
