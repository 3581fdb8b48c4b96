/**
 * `${env:NAME}` references: where they may appear (artifact env values, notification
 * secrets, deployer config strings), how they are spotted when malformed, and how they are
 * resolved at apply time. Messages name variables and places, never values.
 */
import { redactor } from '../model/redact.js';
import { InvalidInputError, type InputProblem, type SourcePosition } from '../model/errors.js';
import { formatJsonPath, subjectOf, type JsonPath, type PathProblem } from './paths.js';

const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/y;

type Part = string | { name: string };

interface Scan {
  parts: Part[];
  /** Index in the string of each `${` that is neither a valid reference nor escaped. */
  malformed: number[];
}

/** `$${` is a literal `${`; `${env:NAME}` a reference; any other `${` is malformed. */
function scan(text: string): Scan {
  const parts: Part[] = [];
  const malformed: number[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
    } else if (text.startsWith('${', i)) {
      REFERENCE.lastIndex = i;
      const m = REFERENCE.exec(text);
      if (m) {
        if (literal) parts.push(literal);
        literal = '';
        parts.push({ name: m[1] });
        i += m[0].length;
      } else {
        malformed.push(i);
        literal += '${';
        i += 2;
      }
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal) parts.push(literal);
  return { parts, malformed };
}

// Where references are honoured inside an environment. '#' is any list index, '*' any key,
// '**' anything below.
const SITES: readonly (readonly string[])[] = [
  ['deployments', '#', 'revisions', '#', 'artifact', 'env', '*'],
  ['notifications', '#', 'secret'],
  ['deployers', '*', 'config', '**'],
];

function matches(path: JsonPath, prefixOnly: boolean): boolean {
  return SITES.some((site) => {
    for (let i = 0; i < path.length; i++) {
      const want = site[i];
      if (want === undefined) return false;
      if (want === '**') return true;
      if (want === '#' ? typeof path[i] !== 'number' : want !== '*' && want !== path[i]) return false;
    }
    return prefixOnly || path.length === site.length || site[path.length] === '**';
  });
}

function looksLikeEnvironment(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) &&
    ('deployments' in value || 'deployers' in value || 'environment_id' in value);
}

/**
 * Calls `visit` for each string where references are honoured (with the live path: a visitor
 * that keeps it copies it) and, with `copy`, returns a deep copy holding what `visit` returned.
 * A whole environment (or a value with `basePath` inside one) only has the sites above; any
 * other value is a free fragment (say one deployer's config) where every string is a site.
 */
function forEachSite(
  value: unknown,
  basePath: JsonPath | undefined,
  visit: (s: string, path: JsonPath) => string,
  copy: boolean,
): unknown {
  const scoped = basePath !== undefined || looksLikeEnvironment(value);
  // One path array, pushed and popped, handed to `visit` as is (a visitor copies it only when
  // it keeps it): allocating a path per node or per string was a visible share of planning
  // 50,000 revisions.
  const path: JsonPath = [...(basePath ?? [])];
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return !scoped || matches(path, false) ? visit(node, path) : node;
    if (node === null || typeof node !== 'object') return node;
    if (scoped && !matches(path, true)) return copy ? copyJson(node) : undefined;
    if (Array.isArray(node)) {
      const items = copy ? new Array<unknown>(node.length) : undefined;
      for (let i = 0; i < node.length; i++) {
        path.push(i);
        const v = walk(node[i]);
        path.pop();
        if (items) items[i] = v;
      }
      return items;
    }
    const out: Record<string, unknown> | undefined = copy ? {} : undefined;
    for (const k of Object.keys(node)) {
      path.push(k);
      const v = walk((node as Record<string, unknown>)[k]);
      path.pop();
      // defineProperty: a `__proto__` key in a config must stay a key, not become a prototype.
      if (out) setOwn(out, k, v);
    }
    return out;
  };
  return walk(value);
}

/** `out[k] = v`, except that a `__proto__` key stays a key instead of becoming a prototype. */
function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/** A deep copy of parsed YAML data; much cheaper than structuredClone on many small objects. */
function copyJson(node: unknown): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map(copyJson);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(node)) {
    setOwn(out, k, copyJson((node as Record<string, unknown>)[k]));
  }
  return out;
}

/** Names of the variables `value` references, sorted, each once. */
export function findEnvReferences(value: unknown): string[] {
  const names = new Set<string>();
  forEachSite(value, undefined, (s) => {
    for (const p of scan(s).parts) if (typeof p !== 'string') names.add(p.name);
    return s;
  }, false);
  return [...names].sort();
}

/** Validation: every malformed `${...}` at a reference site of the environment `root`. */
export function malformedReferenceProblems(root: unknown): PathProblem[] {
  const problems: PathProblem[] = [];
  forEachSite(root, [], (s, path) => {
    const malformed = s.includes('${') ? scan(s).malformed : [];
    if (malformed.length > 0) {
      problems.push({
        path: path.slice(),
        index: malformed[0],
        message: `${subjectOf(root, path)} has a malformed reference: write \${env:NAME} (NAME of letters, digits and "_", not starting with a digit), or $\${ for a literal \${`,
      });
    }
    return s;
  }, false);
  return problems;
}

/** Where the value being resolved came from, for positions in the error. A ParsedEnvironment fits. */
export interface EnvReferenceSite {
  file: string;
  locate?(path: JsonPath): SourcePosition;
  /** Where `value` sits inside the environment, when it is a part of one. */
  basePath?: JsonPath;
}

/**
 * A deep copy of `value` with each `${env:NAME}` replaced by `vars[NAME]` and `$${` by `${`.
 * Throws InvalidInputError listing every unset variable and every malformed reference with
 * where it is used; values are never part of the message.
 */
export function resolveEnvReferences<T>(value: T, vars: Record<string, string | undefined>, where?: EnvReferenceSite | string): T {
  const site: EnvReferenceSite = typeof where === 'string' ? { file: where } : where ?? { file: '<environment>' };
  const failures: { path: JsonPath; message: string }[] = [];
  const describe = (path: JsonPath): string =>
    looksLikeEnvironment(value) && site.basePath === undefined ? subjectOf(value, path) : formatJsonPath(path) || 'the value';
  const resolved = forEachSite(value, site.basePath, (s, path) => {
    if (!s.includes('$')) return s;
    const { parts, malformed } = scan(s);
    if (malformed.length > 0) {
      failures.push({ path: path.slice(), message: `${describe(path)} has a malformed reference: write \${env:NAME}, or $\${ for a literal \${` });
      return s;
    }
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      // Own keys only: `${env:constructor}` must not read Object.prototype.
      const v = Object.hasOwn(vars, p.name) ? vars[p.name] : undefined;
      if (typeof v === 'string') {
        // Registered the moment it is resolved: from here on nothing bp prints, records or
        // sends can carry it (src/model/redact.ts).
        redactor.register(v);
        out += v;
      } else failures.push({ path: path.slice(), message: `environment variable ${p.name} is not set (referenced by ${describe(path)})` });
    }
    return out;
  }, true);
  if (failures.length > 0) throw referenceError(failures, site);
  return resolved as T;
}

function referenceError(failures: { path: JsonPath; message: string }[], site: EnvReferenceSite): InvalidInputError {
  const problems: InputProblem[] = failures.map((f) => {
    const pos = site.locate?.(f.path);
    return { file: site.file, line: pos?.line ?? 0, col: pos?.col ?? 0, message: f.message };
  });
  const err = new InvalidInputError(problems);
  // Without positions, `FILE:0:0:` would only mislead; the message already names the place.
  if (!site.locate) err.message = problems.map((p) => `${p.file}: ${p.message}`).join('\n');
  return err;
}
