/**
 * The slow parser: `yaml` with source ranges. It is authoritative for syntax errors,
 * duplicate keys and aliases (bounded, so an alias bomb fails fast), and it maps a JSON
 * path back to the line and column an operator should look at.
 */
import { Document, isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node, type Pair } from 'yaml';
import type { JsonPath } from './paths.js';

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
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    slowParses++;
    this.doc = parseDocument(text, {
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
    const problems: OffsetProblem[] = [];
    let fatal = false;
    for (const e of [...this.doc.errors, ...this.doc.warnings]) {
      const offset = e.pos[0];
      if (e.code === 'DUPLICATE_KEY') {
        problems.push({ offset, message: `duplicate key ${JSON.stringify(keyTextAt(this.text, offset))}: each key may appear once in a mapping` });
      } else if (e.code === 'MULTIPLE_DOCS') {
        fatal = true;
        problems.push({ offset, message: 'the file holds more than one YAML document (a second ---): an env file declares exactly one environment' });
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
      if (isMap(node)) {
        const pair = (node.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyOffset = rangeStart(pair.key) ?? offset;
        node = pair.value;
        const valueOffset = rangeStart(node);
        const resolved = this.unalias(node);
        const mode = last ? at : 'auto';
        if (mode === 'key') return keyOffset;
        // An empty value (`key:` and nothing) has no text of its own: point at its key.
        const empty = isScalar(resolved) && resolved.range?.[0] === resolved.range?.[1];
        offset = valueOffset === undefined || empty || (mode === 'auto' && isCollection(resolved)) ? keyOffset : valueOffset;
      } else if (isSeq(node) && typeof seg === 'number') {
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
      if (isMap(node)) node = (node.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === String(seg))?.value;
      else if (isSeq(node) && typeof seg === 'number') node = node.items[seg];
      else return start;
    }
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return start;
    const raw = this.text.slice(node.range[0], node.range[1]);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    if (node.type !== 'PLAIN' && !quoted) return start;
    const inner = quoted ? raw.slice(1, -1) : raw;
    return inner === node.value ? node.range[0] + (quoted ? 1 : 0) + index : start;
  }

  private unalias(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  private firstAliasOffset(): number {
    let offset = 0;
    visit(this.doc, {
      Alias: (_key, node) => {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    return offset;
  }
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
