/**
 * The slow parser: `yaml` with source ranges. It is authoritative for syntax errors,
 * duplicate keys and aliases (bounded, so an alias bomb fails fast), and it maps a JSON
 * path back to the line and column an operator should look at.
 */
import { createRequire } from 'node:module';
import type { Document, Node, Pair } from 'yaml';
import type { JsonPath } from './paths.js';

// `yaml` is loaded on first use: a clean file never needs it (js-yaml takes it), and loading
// it cost every command ~0.1 s of start-up. (Its Node entry point is CommonJS either way.)
let yamlModule: typeof import('yaml') | undefined;
function yamlLib(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

/** Aliases a document may expand before it is treated as an alias bomb. */
export const MAX_ALIAS_COUNT = 100;

let slowParses = 0;

/** How many times the slow parser has run in this process (lets tests prove the fast path). */
export function slowParseCount(): number {
  return slowParses;
}

export interface OffsetProblem {
  offset: number;
  message: string;
}

export interface Position {
  line: number;
  col: number;
}

export class YamlSource {
  private readonly doc: Document;
  private readonly lines = new (yamlLib().LineCounter)();

  /** Set when the text nests too deep to hand to `yaml` (see `excessiveNestingOffset`). */
  private readonly tooDeepAt: number | undefined;

  constructor(readonly text: string) {
    slowParses++;
    this.tooDeepAt = excessiveNestingOffset(text);
    // Too deep: `yaml` would overflow the stack at a point that depends on the stack size,
    // reporting a different position per process. Refuse at our own, stable offset instead.
    this.doc = yamlLib().parseDocument(this.tooDeepAt === undefined ? text : '', {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: true,
      schema: 'core',
      merge: false,
      strict: true,
    });
  }

  /** Syntax problems; `fatal` when the value cannot be trusted (anything but duplicate keys). */
  syntaxProblems(): { problems: OffsetProblem[]; fatal: boolean } {
    if (this.tooDeepAt !== undefined) {
      return { problems: [{ offset: this.tooDeepAt, message: TOO_DEEP_MESSAGE }], fatal: true };
    }
    const problems: OffsetProblem[] = [];
    let fatal = false;
    for (const e of [...this.doc.errors, ...this.doc.warnings]) {
      const offset = e.pos[0];
      if (e.code === 'DUPLICATE_KEY') {
        problems.push({
          offset,
          message: `duplicate key ${JSON.stringify(keyTextAt(this.text, offset))}: each key may appear once in a mapping`,
        });
      } else if (e.code === 'MULTIPLE_DOCS') {
        fatal = true;
        problems.push({
          offset,
          message:
            'the file holds more than one YAML document (a second ---): an env file declares exactly one environment',
        });
      } else if (/Maximum call stack/i.test(e.message)) {
        // `yaml` composes nested collections recursively and reports the overflow as an error.
        fatal = true;
        if (!problems.some((p) => p.message === TOO_DEEP_MESSAGE)) problems.push({ offset, message: TOO_DEEP_MESSAGE });
      } else {
        fatal = true;
        problems.push({ offset, message: `YAML syntax: ${firstLine(e.message)}` });
      }
    }
    return { problems, fatal };
  }

  /** The document as plain data, with aliases bounded. */
  value(): { ok: true; value: unknown } | { ok: false; problem: OffsetProblem } {
    try {
      return { ok: true, value: this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
    } catch (e) {
      const offset = this.firstAliasOffset();
      const excessive = e instanceof ReferenceError && /excessive alias/i.test(e.message);
      const message = excessive
        ? `YAML aliases expand more than ${MAX_ALIAS_COUNT} times (an alias bomb?): the file is rejected, not expanded`
        : `YAML aliases: ${firstLine(e instanceof Error ? e.message : String(e))}`;
      return { ok: false, problem: { offset, message } };
    }
  }

  position(offset: number): Position {
    if (this.tooDeepAt !== undefined) {
      const before = this.text.slice(0, offset);
      const lastNewline = before.lastIndexOf('\n');
      return { line: before.split('\n').length, col: offset - lastNewline };
    }
    const p = this.lines.linePos(offset);
    // linePos reports line 0 before the first newline is known (one-line files).
    return p.line === 0 ? { line: 1, col: offset + 1 } : p;
  }

  /**
   * Offset of the node at `path`, or of its nearest existing ancestor. A mapping entry whose
   * value is a collection points at its key (`artifact:`), a scalar at its value; `key` points
   * at the entry's key whatever its value.
   */
  offsetOf(path: JsonPath, at: 'key' | 'value' | 'auto' = 'auto'): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      node = this.unalias(node);
      if (yamlLib().isMap(node)) {
        const pair = (node.items as Pair[]).find(
          (p) => yamlLib().isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) break;
        const keyOffset = rangeStart(pair.key) ?? offset;
        node = pair.value;
        const valueOffset = rangeStart(node);
        const resolved = this.unalias(node);
        const mode = last ? at : 'auto';
        if (mode === 'key') return keyOffset;
        // An empty value (`key:` and nothing) has no text of its own: point at its key.
        const empty = yamlLib().isScalar(resolved) && resolved.range?.[0] === resolved.range?.[1];
        offset =
          valueOffset === undefined || empty || (mode === 'auto' && yamlLib().isCollection(resolved))
            ? keyOffset
            : valueOffset;
      } else if (yamlLib().isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        const start = rangeStart(item);
        if (start === undefined) break;
        node = item;
        offset = start;
      } else {
        break;
      }
    }
    return offset;
  }

  /**
   * Offset of character `index` of the string at `path` when the scalar is written on one
   * line without escapes (so source and value line up); else the scalar's own offset.
   */
  offsetInString(path: JsonPath, index: number): number {
    const start = this.offsetOf(path, 'value');
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      node = this.unalias(node);
      if (yamlLib().isMap(node))
        node = (node.items as Pair[]).find(
          (p) => yamlLib().isScalar(p.key) && String(p.key.value) === String(seg),
        )?.value;
      else if (yamlLib().isSeq(node) && typeof seg === 'number') node = node.items[seg];
      else return start;
    }
    if (!yamlLib().isScalar(node) || typeof node.value !== 'string' || !node.range) return start;
    const raw = this.text.slice(node.range[0], node.range[1]);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    if (node.type !== 'PLAIN' && !quoted) return start;
    const inner = quoted ? raw.slice(1, -1) : raw;
    return inner === node.value ? node.range[0] + (quoted ? 1 : 0) + index : start;
  }

  private unalias(node: unknown): unknown {
    return yamlLib().isAlias(node) ? node.resolve(this.doc) : node;
  }

  private firstAliasOffset(): number {
    let offset = 0;
    yamlLib().visit(this.doc, {
      Alias: (_key, node) => {
        offset = node.range?.[0] ?? 0;
        return yamlLib().visit.BREAK;
      },
    });
    return offset;
  }
}

/** Levels of flow nesting, or columns of indentation, that no env file needs. */
export const MAX_NESTING = 256;
const TOO_DEEP_MESSAGE = `YAML nesting is too deep to read (more than ${MAX_NESTING} levels): an env file needs only a few`;

/**
 * Offset where flow collections nest deeper than MAX_NESTING (`[[[[...`) or a line is
 * indented MAX_NESTING columns or more; undefined for any ordinary file. Quoted scalars are
 * skipped so brackets inside strings do not count.
 */
export function excessiveNestingOffset(text: string): number | undefined {
  let depth = 0;
  let lineStart = true;
  let indent = 0;
  let prev = '\n';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      lineStart = true;
      indent = 0;
      prev = c;
      continue;
    }
    if (lineStart && c === ' ') {
      if (++indent >= MAX_NESTING) return i;
      continue;
    }
    lineStart = false;
    if ((c === '"' || c === "'") && /[\s[{,:-]/.test(prev)) {
      const end = c === '"' ? closingDoubleQuote(text, i) : closingSingleQuote(text, i);
      if (end === -1) return undefined; // unterminated: `yaml` reports it
      i = end;
      prev = c;
      continue;
    }
    if (c === '#' && /\s/.test(prev)) {
      const nl = text.indexOf('\n', i);
      if (nl === -1) break;
      i = nl - 1;
      continue;
    }
    if (c === '[' || c === '{') {
      if (++depth > MAX_NESTING) return i;
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
    }
    prev = c;
  }
  return undefined;
}

function closingDoubleQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

function closingSingleQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === "'") {
      if (text[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

/** The key written at `offset`: `name`, `"name"` or `'name'`, up to its colon. */
function keyTextAt(text: string, offset: number): string {
  const line = text.slice(offset, text.indexOf('\n', offset) === -1 ? undefined : text.indexOf('\n', offset));
  const m = /^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|(.*?))\s*:(?:\s|$)/.exec(line);
  return (m ? (m[1] ?? m[2] ?? m[3]) : line).slice(0, 80);
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}
