/**
 * The edits behind `bp revision add`, `bp traffic set` and `bp revision retire`: each takes the
 * file's text and returns the new text, changing only the lines it must (document.ts).
 * Validation of the result is the caller's (it parses it like any env file).
 */
import type { Document, Node, YAMLMap } from 'yaml';
import {
  EditError,
  applySplices,
  block,
  columnOf,
  findDeployment,
  findRevision,
  flow,
  lineEnd,
  lineStart,
  pairOf,
  parseForEdit,
  scalarAt,
  valueOf,
  yamlLib,
} from './document.js';

export interface SplitEntry {
  revision_id: string;
  weight_bps: number;
}

/** The traffic list of a deployment as written (weights as numbers). */
export function currentTraffic(dep: YAMLMap): SplitEntry[] {
  const list = valueOf(dep, 'traffic');
  if (!yamlLib().isSeq(list)) return [];
  return (list.items as unknown[]).map((i) => ({
    revision_id: String(scalarAt(i, 'revision_id')),
    weight_bps: Number(scalarAt(i, 'weight_bps')),
  }));
}

/**
 * `entries` scaled to sum to `total` in proportion to their weights (largest remainder, ties
 * by order), entries that end at 0 dropped. Entries summing to 0 cannot be scaled: [].
 */
export function scaleSplit(entries: readonly SplitEntry[], total: number): SplitEntry[] {
  const sum = entries.reduce((n, e) => n + e.weight_bps, 0);
  if (sum <= 0 || total <= 0) return [];
  const exact = entries.map((e) => (e.weight_bps * total) / sum);
  const out = entries.map((e, i) => ({ revision_id: e.revision_id, weight_bps: Math.floor(exact[i]) }));
  let left = total - out.reduce((n, e) => n + e.weight_bps, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i].weight_bps++;
    left--;
  }
  return out.filter((e) => e.weight_bps > 0);
}

/** Where to insert text after a node: the end of the line its value ends on. */
function afterNode(text: string, node: Node): number {
  const end = node.range?.[1] ?? text.length;
  return text[end - 1] === '\n' ? end - 1 : lineEnd(text, end);
}

/** Column of the `- ` that introduces a block sequence item starting at `offset`. */
function dashColumn(text: string, offset: number): number {
  const dash = text.lastIndexOf('-', offset);
  return columnOf(text, dash);
}

function keyColumn(text: string, map: YAMLMap): number {
  const first = map.items[0]?.key as Node | undefined;
  return columnOf(text, first?.range?.[0] ?? 0);
}

/** Replaces the deployment's traffic list with `entries` (0 weights dropped). */
export function setTrafficText(text: string, file: string, deployment: string, entries: readonly SplitEntry[]): string {
  const doc = parseForEdit(text, file);
  const dep = findDeployment(doc, deployment, file);
  const kept = entries
    .filter((e) => e.weight_bps > 0)
    .map((e) => ({ revision_id: e.revision_id, weight_bps: e.weight_bps }));
  const pair = pairOf(dep, 'traffic');
  const list = pair?.value;
  if (!pair || !list || !yamlLib().isSeq(list) || list.items.length === 0 || list.flow) {
    if (list && (list as Node).range) {
      const r = (list as Node).range!;
      return applySplices(text, [{ start: r[0], end: r[1], text: flow(kept) }]);
    }
    const indent = keyColumn(text, dep);
    const last = dep.items[dep.items.length - 1].value as Node;
    const body = kept.map((e) => `\n${' '.repeat(indent + 2)}- ${flow(e)}`).join('');
    return applySplices(text, [
      { start: afterNode(text, last), end: afterNode(text, last), text: `\n${' '.repeat(indent)}traffic:${body}` },
    ]);
  }
  const items = list.items as Node[];
  const first = items[0];
  const dash = dashColumn(text, first.range![0]);
  const asFlow = yamlLib().isMap(first) && first.flow;
  const lines = kept.map((e) => (asFlow ? `${' '.repeat(dash)}- ${flow(e)}` : block([e], dash)));
  const start = lineStart(text, first.range![0]);
  const end = afterNode(text, items[items.length - 1]);
  return applySplices(text, [{ start, end, text: lines.join('\n') }]);
}

export interface AddRevisionOptions {
  deployment: string;
  revision: string;
  image?: string;
  command?: string[];
  /** Copy this revision's definition (default: the last revision of the deployment). */
  from?: string;
  env?: Record<string, string>;
  /** Give the new revision this share; the others keep their proportions of the rest. */
  weight?: number;
}

/** The deployment's revisions list a new revision id goes into (refused when the id is taken). */
function revisionsToAddTo(text: string, file: string, deployment: string, revision: string) {
  const doc = parseForEdit(text, file);
  const dep = findDeployment(doc, deployment, file);
  if (findRevision(dep, revision))
    throw new EditError(
      `deployment "${deployment}" already has a revision "${revision}" (revisions are immutable: add a new id)`,
    );
  const list = valueOf(dep, 'revisions');
  if (!yamlLib().isSeq(list) || list.items.length === 0)
    throw new EditError(`deployment "${deployment}" in ${file} has no revisions list to add to`);
  return { doc, dep, list, items: list.items as YAMLMap[] };
}

export function addRevisionText(text: string, file: string, o: AddRevisionOptions): string {
  const { doc, dep, items } = revisionsToAddTo(text, file, o.deployment, o.revision);
  const source = o.from !== undefined ? findRevision(dep, o.from) : items[items.length - 1];
  if (!source) throw new EditError(`deployment "${o.deployment}" has no revision "${o.from}" to copy (--from)`);
  const copy = source.toJS(doc as Document) as Record<string, unknown>;
  delete copy.state;
  delete copy.ttl;
  const artifact = { ...((copy.artifact as Record<string, unknown> | undefined) ?? {}) };
  // An artifact is exactly one of image, command, binary: the one given replaces the others.
  if (o.image !== undefined || o.command !== undefined) {
    delete artifact.image;
    delete artifact.command;
    delete artifact.binary;
  }
  if (o.image !== undefined) artifact.image = o.image;
  if (o.command !== undefined) artifact.command = o.command;
  if (o.env && Object.keys(o.env).length > 0)
    artifact.env = { ...((artifact.env as Record<string, string>) ?? {}), ...o.env };
  const revision = { revision_id: o.revision, ...copy, artifact };
  revision.revision_id = o.revision;
  return appendRevisionText(text, file, o.deployment, revision, o.weight);
}

/**
 * Appends `revision` (a whole definition) to the deployment's revisions; with `weight` it gets
 * that share of traffic and the others keep their proportions of the rest. `bp revision add`
 * and `bp promote` (which copies a definition from another file).
 */
export function appendRevisionText(
  text: string,
  file: string,
  deployment: string,
  revision: Record<string, unknown> & { revision_id: string },
  weight?: number,
): string {
  const o = { deployment, revision: revision.revision_id, weight };
  const { doc, dep, list, items } = revisionsToAddTo(text, file, o.deployment, o.revision);
  let out: string;
  if (list.flow) {
    const r = list.range!;
    out = applySplices(text, [
      { start: r[0], end: r[1], text: flow([...(list.toJS(doc as Document) as unknown[]), revision]) },
    ]);
  } else {
    const dash = dashColumn(text, items[0].range![0]);
    const at = afterNode(text, items[items.length - 1]);
    out = applySplices(text, [{ start: at, end: at, text: `\n${block([revision], dash)}` }]);
  }
  if (o.weight === undefined) return out;
  const others = scaleSplit(
    currentTraffic(dep).filter((e) => e.revision_id !== o.revision),
    10000 - o.weight,
  );
  if (o.weight < 10000 && others.length === 0)
    throw new EditError(
      `deployment "${o.deployment}" has no traffic to share with "${o.revision}": use --weight 10000`,
    );
  return setTrafficText(out, file, o.deployment, [...others, { revision_id: o.revision, weight_bps: o.weight }]);
}

/** Weight 0 (its share goes to the others in proportion) and `state: inactive`. */
export function retireRevisionText(text: string, file: string, deployment: string, revisionId: string): string {
  const doc = parseForEdit(text, file);
  const dep = findDeployment(doc, deployment, file);
  const revision = findRevision(dep, revisionId);
  if (!revision) throw new EditError(`deployment "${deployment}" has no revision "${revisionId}"`);
  let out = text;
  const statePair = pairOf(revision, 'state');
  if (statePair?.value && (statePair.value as Node).range) {
    const r = (statePair.value as Node).range!;
    out = applySplices(out, [{ start: r[0], end: r[1], text: 'inactive' }]);
  } else if (revision.flow) {
    const r = revision.range!;
    out = applySplices(out, [
      { start: r[0], end: r[1], text: flow({ ...(revision.toJS(doc as Document) as object), state: 'inactive' }) },
    ]);
  } else {
    const at = afterNode(text, revision.items[revision.items.length - 1].value as Node);
    out = applySplices(out, [
      { start: at, end: at, text: `\n${' '.repeat(keyColumn(text, revision))}state: inactive` },
    ]);
  }
  const traffic = currentTraffic(dep);
  if (!traffic.some((e) => e.revision_id === revisionId && e.weight_bps > 0)) return out;
  const rest = scaleSplit(
    traffic.filter((e) => e.revision_id !== revisionId),
    10000,
  );
  if (rest.length === 0)
    throw new EditError(
      `revision "${revisionId}" carries all of deployment "${deployment}"'s traffic: add or shift traffic to another revision first`,
    );
  return setTrafficText(out, file, deployment, rest);
}

/** `REV=BPS` arguments of `bp traffic set`. */
export function parseWeights(args: readonly string[]): SplitEntry[] {
  const seen = new Set<string>();
  const entries = args.map((a) => {
    const m = /^([^=\s]+)=([0-9]{1,5})$/.exec(a);
    if (!m || Number(m[2]) > 10000)
      throw new EditError(
        `expected REVISION=BPS with BPS from 0 to 10000 (basis points: 10000 is 100%), not ${JSON.stringify(a)}`,
      );
    if (seen.has(m[1])) throw new EditError(`revision "${m[1]}" is given twice`);
    seen.add(m[1]);
    return { revision_id: m[1], weight_bps: Number(m[2]) };
  });
  const sum = entries.reduce((n, e) => n + e.weight_bps, 0);
  if (sum !== 10000) throw new EditError(`weights sum to ${sum}, not 10000 (basis points: 10000 is 100%)`);
  return entries;
}
