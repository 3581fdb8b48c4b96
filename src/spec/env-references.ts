/**
 * `${env:NAME}` references: where they may appear (artifact env values, notification
 * secrets, deployer config strings), how they are spotted when malformed, and how they are
 * resolved at apply time. Messages name variables and places, never values.
 */
import { redactor } from '../model/redact.js';
import { InvalidInputError, type InputProblem, type SourcePosition } from '../model/errors.js';
import { formatJsonPath, subjectOf, type JsonPath, type PathProblem } from './paths.js';

/**
 * The reference grammar (docs/secrets.md):
 *   ${env:NAME}                     bp's environment variable NAME
 *   ${file:PATH}                    the content of a file (relative to the env file), trailing newline cut
 *   ${secret:STORE:REF}             a secret store's value; REF may end in @VERSION (a pin) and
 *   ${secret:STORE:REF@VERSION#KEY}   #KEY (a key of the value parsed as a JSON object)
 * `$${` is a literal `${`. `${var:NAME}` belongs to the variables of env files (plain values,
 * substituted at load) and is left alone here.
 */
export type SecretStoreKind = 'aws-sm' | 'aws-ssm' | 'gcp-sm' | 'azure-kv' | 'vault' | 'k8s';
export const SECRET_STORES: readonly SecretStoreKind[] = ['aws-sm', 'aws-ssm', 'gcp-sm', 'azure-kv', 'vault', 'k8s'];

export type Reference =
  | { kind: 'env'; name: string; text: string }
  | { kind: 'file'; path: string; text: string }
  | { kind: 'secret'; store: SecretStoreKind; ref: string; version?: string; key?: string; text: string };

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/y;
const FILE_REF = /\$\{file:([^{}\s][^{}]*)\}/y;
const SECRET_REF = /\$\{secret:([a-z0-9-]+):([^{}@#\s]+)(?:@([^{}@#\s]+))?(?:#([^{}@#]+))?\}/y;
const VAR_REF = /\$\{var:[^{}]*\}/y;

type Part = string | Reference;

interface Scan {
  parts: Part[];
  /** Index in the string of each `${` that is neither a valid reference nor escaped. */
  malformed: number[];
}

function match(text: string, i: number): Reference | null {
  ENV_REF.lastIndex = i;
  let m = ENV_REF.exec(text);
  if (m) return { kind: 'env', name: m[1], text: m[0] };
  FILE_REF.lastIndex = i;
  m = FILE_REF.exec(text);
  if (m) return { kind: 'file', path: m[1], text: m[0] };
  SECRET_REF.lastIndex = i;
  m = SECRET_REF.exec(text);
  if (m && (SECRET_STORES as readonly string[]).includes(m[1])) {
    return {
      kind: 'secret',
      store: m[1] as SecretStoreKind,
      ref: m[2],
      text: m[0],
      ...(m[3] !== undefined ? { version: m[3] } : {}),
      ...(m[4] !== undefined ? { key: m[4] } : {}),
    };
  }
  return null;
}

/** `$${` is a literal `${`; a reference of the grammar above a reference; any other `${` is malformed. */
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
      const ref = match(text, i);
      VAR_REF.lastIndex = i;
      const v = ref ? null : VAR_REF.exec(text);
      if (ref) {
        if (literal) parts.push(literal);
        literal = '';
        parts.push(ref);
        i += ref.text.length;
      } else if (v) {
        literal += v[0];
        i += v[0].length;
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

/**
 * The references in one string and where it has malformed ones: the one classification every
 * layer uses (validation, plan notes, apply-time resolution, variables of env files).
 */
export function classifyReferences(text: string): { references: Reference[]; malformed: number[] } {
  if (!text.includes('${')) return { references: [], malformed: [] };
  const { parts, malformed } = scan(text);
  return { references: parts.filter((p): p is Reference => typeof p !== 'string'), malformed };
}

/** A stable key of a reference (the same secret referenced twice is fetched once). */
export function referenceKey(ref: Reference): string {
  return ref.text;
}

const MALFORMED_HINT =
  'write ${env:NAME}, ${file:PATH} or ${secret:STORE:REF[@VERSION][#KEY]} ' +
  `(STORE one of ${SECRET_STORES.join(', ')}), or $\${ for a literal \${`;

// Where references are honoured inside an environment. '#' is any list index, '*' any key,
// '**' anything below.
const SITES: readonly (readonly string[])[] = [
  ['deployments', '#', 'revisions', '#', 'artifact', 'env', '*'],
  ['notifications', '#', 'secret'],
  ['notifications', '#', 'url'],
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
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    ('deployments' in value || 'deployers' in value || 'environment_id' in value)
  );
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
  if (k === '__proto__')
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
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
  for (const r of findReferences(value)) if (r.kind === 'env') names.add(r.name);
  return [...names].sort();
}

/** Every reference at a reference site of `value` (see `forEachSite`), each once, in order. */
export function findReferences(value: unknown, basePath?: JsonPath): Reference[] {
  const seen = new Map<string, Reference>();
  forEachSite(
    value,
    basePath,
    (s) => {
      for (const r of classifyReferences(s).references) if (!seen.has(r.text)) seen.set(r.text, r);
      return s;
    },
    false,
  );
  return [...seen.values()];
}

const ALLOWED_AT = "artifact.env values, deployer config, and a notification's url and secret";

/**
 * Validation of references in the environment `root`: malformed `${...}` where references are
 * honoured; any reference anywhere else (a secret reference outside the places a secret may
 * go); and a notification `secret` given literally (it must come from a reference).
 */
export function malformedReferenceProblems(root: unknown): PathProblem[] {
  const problems: PathProblem[] = [];
  const path: JsonPath = [];
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      const site = matches(path, false);
      if (!node.includes('${')) {
        if (site && path.length === 3 && path[0] === 'notifications' && path[2] === 'secret') {
          problems.push({
            path: path.slice(),
            message:
              `${subjectOf(root, path)} is a literal secret: give it as a reference (\${env:NAME}, \${file:PATH} ` +
              'or ${secret:STORE:REF}) so the value is never committed with the file',
          });
        }
        return;
      }
      const { references, malformed } = classifyReferences(node);
      if (site && malformed.length > 0) {
        problems.push({
          path: path.slice(),
          index: malformed[0],
          message: `${subjectOf(root, path)} has a malformed reference: ${MALFORMED_HINT}`,
        });
      } else if (!site && references.length > 0) {
        const at = node.indexOf(references[0].text);
        problems.push({
          path: path.slice(),
          index: at,
          message:
            `${subjectOf(root, path)} may not hold the reference ${references[0].text}: references are ` +
            `allowed only in ${ALLOWED_AT} (a plain value can be written out, or given as a \${var:NAME} variable)`,
        });
      }
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    for (const k of keys) {
      path.push(k);
      visit((node as Record<string | number, unknown>)[k]);
      path.pop();
    }
  };
  visit(root);
  return problems;
}

/** Where the value being resolved came from, for positions in the error. A ParsedEnvironment fits. */
export interface EnvReferenceSite {
  file: string;
  locate?(path: JsonPath): SourcePosition;
  /** Where `value` sits inside the environment, when it is a part of one. */
  basePath?: JsonPath;
}

/** A resolved value, or why the reference could not be resolved (no value in the message). */
export type Lookup = (ref: Reference) => { value: string } | { problem: string };

/** The lookup of `${env:NAME}` in `vars`; other kinds need the apply-time resolver. */
export function envLookup(vars: Record<string, string | undefined>): Lookup {
  return (ref) => {
    if (ref.kind !== 'env') return { problem: `${ref.text} is resolved only while applying (not here)` };
    // Own keys only: `${env:constructor}` must not read Object.prototype.
    const v = Object.hasOwn(vars, ref.name) ? vars[ref.name] : undefined;
    return typeof v === 'string' ? { value: v } : { problem: `environment variable ${ref.name} is not set` };
  };
}

/**
 * A deep copy of `value` with each `${env:NAME}` replaced by `vars[NAME]` and `$${` by `${`.
 * Throws InvalidInputError listing every unset variable and every malformed reference with
 * where it is used; values are never part of the message.
 */
export function resolveEnvReferences<T>(
  value: T,
  vars: Record<string, string | undefined>,
  where?: EnvReferenceSite | string,
): T {
  return resolveReferences(value, envLookup(vars), where);
}

/**
 * A deep copy of `value` with each reference replaced by what `lookup` gives and `$${` by
 * `${`; each value is registered with the redactor as it is substituted. Throws
 * InvalidInputError listing every failure with where the reference is used.
 */
export function resolveReferences<T>(value: T, lookup: Lookup, where?: EnvReferenceSite | string): T {
  const site: EnvReferenceSite = typeof where === 'string' ? { file: where } : (where ?? { file: '<environment>' });
  const failures: { path: JsonPath; message: string }[] = [];
  const describe = (path: JsonPath): string =>
    looksLikeEnvironment(value) && site.basePath === undefined
      ? subjectOf(value, path)
      : formatJsonPath(path) || 'the value';
  const resolved = forEachSite(
    value,
    site.basePath,
    (s, path) => {
      if (!s.includes('$')) return s;
      const { parts, malformed } = scan(s);
      if (malformed.length > 0) {
        failures.push({
          path: path.slice(),
          message: `${describe(path)} has a malformed reference: ${MALFORMED_HINT}`,
        });
        return s;
      }
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') {
          out += p;
          continue;
        }
        const got = lookup(p);
        if ('value' in got) {
          // Registered the moment it is resolved: from here on nothing bp prints, records or
          // sends can carry it (src/model/redact.ts).
          redactor.register(got.value);
          out += got.value;
        } else failures.push({ path: path.slice(), message: `${got.problem} (referenced by ${describe(path)})` });
      }
      return out;
    },
    true,
  );
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

/**
 * Warnings (not errors) about how secrets are used, each `FILE:LINE:COL: warning: ...`: a
 * webhook without a `secret` sends unsigned deliveries any sender could forge.
 */
export function secretWarnings(parsed: {
  env: { notifications?: readonly { secret?: string }[] };
  file: string;
  locate(path: JsonPath): SourcePosition;
}): string[] {
  const out: string[] = [];
  (parsed.env.notifications ?? []).forEach((n, i) => {
    if (n.secret !== undefined) return;
    const pos = parsed.locate(['notifications', i]);
    out.push(
      `${parsed.file}:${pos.line}:${pos.col}: warning: notification #${i + 1} has no secret: its deliveries go out ` +
        'unsigned and a receiver cannot tell them from forged ones (add secret: ${env:NAME})',
    );
  });
  return out;
}
