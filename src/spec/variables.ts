/**
 * `${var:NAME}` substitution: the first phase after parsing (and merging overlays), before
 * schema, semantic and `${env:}`/secret-reference checks, so those see the substituted text.
 * Variables are plain values, not secrets: they end up in plans and state. Any string field may
 * use them, ids included. `$${` stays as written (the reference phase turns it into `${`).
 *
 * Values come from, lowest precedence first: `vars:` defaults in the file, BP_VAR_NAME,
 * `--var-file`, `--var NAME=VALUE` (the CLI builds that record; this module is pure).
 */
import { subjectOf, type JsonPath, type PathProblem } from './paths.js';

export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VAR_REFERENCE = /\$\{var:([A-Za-z_][A-Za-z0-9_]*)\}/y;
const VAR_OPEN = '${var:';

export type Variables = Readonly<Record<string, string>>;

/** The `vars:` block's defaults as strings; a null default declares a variable without a default. */
export function fileDefaults(root: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const block = root !== null && typeof root === 'object' ? (root as Record<string, unknown>).vars : undefined;
  if (block === null || typeof block !== 'object' || Array.isArray(block)) return out;
  for (const [name, v] of Object.entries(block)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = String(v);
  }
  return out;
}

export interface Substitution {
  value: unknown;
  problems: PathProblem[];
  /** Names that were substituted, sorted. */
  used: string[];
}

/**
 * A copy of `root` (sharing every untouched subtree) with each `${var:NAME}` replaced.
 * Unknown names and malformed `${var:` openings are problems at the string, with the index
 * of the reference, naming the field. The `vars:` block itself is left as written.
 */
export function substituteVariables(root: unknown, given: Variables = {}): Substitution {
  const values: Record<string, string> = { ...fileDefaults(root) };
  for (const [k, v] of Object.entries(given)) values[k] = v;
  const problems: PathProblem[] = [];
  const used = new Set<string>();
  const path: JsonPath = [];
  const replace = (s: string): string => {
    let out = '';
    let i = 0;
    while (i < s.length) {
      const at = s.indexOf('$', i);
      if (at === -1) break;
      out += s.slice(i, at);
      if (s.startsWith('$${', at)) {
        out += '$${';
        i = at + 3;
        continue;
      }
      if (!s.startsWith(VAR_OPEN, at)) {
        out += '$';
        i = at + 1;
        continue;
      }
      VAR_REFERENCE.lastIndex = at;
      const m = VAR_REFERENCE.exec(s);
      if (!m) {
        problems.push({
          path: path.slice(),
          index: at,
          message: `${subjectOf(root, path)} has a malformed variable reference: write \${var:NAME} (NAME of letters, digits and "_", not starting with a digit)`,
        });
        out += VAR_OPEN;
        i = at + VAR_OPEN.length;
        continue;
      }
      const name = m[1];
      if (Object.hasOwn(values, name)) {
        out += values[name];
        used.add(name);
      } else {
        problems.push({
          path: path.slice(),
          index: at,
          message: `variable ${name} is not defined (referenced by ${subjectOf(root, path)}): give it a default under vars:, or pass --var ${name}=VALUE, --var-file or BP_VAR_${name}`,
        });
        out += m[0];
      }
      i = at + m[0].length;
    }
    return out + s.slice(i);
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return node.includes(VAR_OPEN) ? replace(node) : node;
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        path.push(i);
        const v = walk(node[i]);
        path.pop();
        if (v !== node[i]) (copy ??= node.slice())[i] = v;
      }
      return copy ?? node;
    }
    let copy: Record<string, unknown> | undefined;
    for (const k of Object.keys(node)) {
      if (path.length === 0 && k === 'vars') continue;
      const before = (node as Record<string, unknown>)[k];
      path.push(k);
      const v = walk(before);
      path.pop();
      if (v !== before) {
        copy ??= { ...(node as Record<string, unknown>) };
        if (k === '__proto__')
          Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true });
        else copy[k] = v;
      }
    }
    return copy ?? node;
  };
  const value = walk(root);
  return { value, problems, used: [...used].sort() };
}

/** `NAME=VALUE` from `--var`; throws a plain Error with the reason (the CLI makes it a usage error). */
export function parseVarAssignment(text: string): [string, string] {
  const eq = text.indexOf('=');
  const name = eq === -1 ? text : text.slice(0, eq);
  if (eq === -1 || !VAR_NAME.test(name)) {
    throw new Error(
      `--var takes NAME=VALUE with NAME of letters, digits and "_" (not starting with a digit), not ${JSON.stringify(text)}`,
    );
  }
  return [name, text.slice(eq + 1)];
}
