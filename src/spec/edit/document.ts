/**
 * Text edits of an env file that keep everything else byte for byte: the `yaml` Document API
 * finds the nodes and their source ranges, and each edit splices new text into exactly the
 * range it changes (re-stringifying the whole document would re-flow comments, quotes and
 * indentation). Pure: text in, text out.
 */
import { createRequire } from 'node:module';
import type { Document, Node, Pair, YAMLMap, YAMLSeq } from 'yaml';
import { BpError } from '../../model/errors.js';

let yamlModule: typeof import('yaml') | undefined;
export function yamlLib(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

/** An edit that cannot be made (unknown deployment, a flow layout it cannot splice...). */
export class EditError extends BpError {
  constructor(message: string) {
    super('InvalidInput', message);
  }
}

export interface Splice {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping splices (any order). */
export function applySplices(text: string, splices: Splice[]): string {
  let out = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start))
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

export function parseForEdit(text: string, file: string): Document {
  const doc = yamlLib().parseDocument(text, { schema: 'core', uniqueKeys: true, merge: false });
  if (doc.errors.length > 0)
    throw new EditError(`${file}: cannot edit: YAML syntax: ${doc.errors[0].message.split('\n')[0]}`);
  return doc;
}

export function pairOf(map: unknown, key: string): Pair<Node, Node> | undefined {
  if (!yamlLib().isMap(map)) return undefined;
  return (map.items as Pair<Node, Node>[]).find((p) => yamlLib().isScalar(p.key) && String(p.key.value) === key);
}

export function valueOf(map: unknown, key: string): Node | undefined {
  const v = pairOf(map, key)?.value;
  return v === null ? undefined : (v as Node | undefined);
}

/** The deployment's mapping node, or an EditError listing the ids there are. */
export function findDeployment(doc: Document, deployment: string, file: string): YAMLMap {
  const list = valueOf(doc.contents, 'deployments');
  const items = yamlLib().isSeq(list) ? (list.items as unknown[]) : [];
  for (const item of items) {
    const id = valueOf(item, 'deployment_id');
    if (yamlLib().isScalar(id) && id.value === deployment && yamlLib().isMap(item)) return item;
  }
  const ids = items
    .map((i) => valueOf(i, 'deployment_id'))
    .filter((n) => yamlLib().isScalar(n))
    .map((n) => String((n as { value: unknown }).value));
  throw new EditError(`${file} has no deployment "${deployment}" (deployments: ${ids.join(', ') || 'none'})`);
}

export function findRevision(dep: YAMLMap, revision: string): YAMLMap | undefined {
  const list = valueOf(dep, 'revisions');
  if (!yamlLib().isSeq(list)) return undefined;
  return (list.items as unknown[]).find(
    (r): r is YAMLMap => yamlLib().isMap(r) && scalarAt(r, 'revision_id') === revision,
  );
}

export function scalarAt(map: unknown, key: string): unknown {
  const v = valueOf(map, key);
  return yamlLib().isScalar(v) ? v.value : undefined;
}

/** Start of the line holding `offset`. */
export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** End of the line holding `offset` (index of its newline, or the text's end). */
export function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl;
}

/** Column (0-based) where a node starts. */
export function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** A one-line flow rendering of plain data, `{ revision_id: web-v2, weight_bps: 1000 }`. */
export function flow(value: unknown): string {
  const doc = new (yamlLib().Document)(value);
  yamlLib().visit(doc, {
    Map: (_k, n) => void (n.flow = true),
    Seq: (_k, n) => void (n.flow = true),
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true }).trimEnd();
}

/** Block YAML of plain data, each line prefixed by `indent` spaces. */
export function block(value: unknown, indent: number): string {
  const text = yamlLib().stringify(value, { lineWidth: 0, indentSeq: true, flowCollectionPadding: true }).trimEnd();
  return text
    .split('\n')
    .map((l) => ' '.repeat(indent) + l)
    .join('\n');
}

export type { YAMLMap, YAMLSeq };
