/**
 * Turns env.yaml text into either a valid value or every problem with its position.
 * Two parsers, one verdict: js-yaml is fast and takes clean files; `yaml` is slow but
 * bounded and source-mapped, and takes over whenever anything needs reporting or the text
 * has anchors, aliases, tags or directives. Both feed the same `checkEnvironmentValue`.
 */
import type { InputProblem, SourcePosition } from '../model/errors.js';
import { parseFast } from './fast-yaml.js';
import { mergeOverlays, type Origin, type Origins } from './overlays.js';
import type { JsonPath, PathProblem } from './paths.js';
import { environmentSchema, environmentValidator } from './schema.js';
import { schemaProblems, typeOfValue } from './schema-problems.js';
import { semanticProblems } from './semantic-checks.js';
import { substituteVariables, type Variables } from './variables.js';
import { YamlSource } from './yaml-source.js';

let patternNames: Map<string, string> | undefined;

/** Pattern source -> `$defs` name, so pattern errors can say "not a valid id". */
function environmentPatternNames(): Map<string, string> {
  if (!patternNames) {
    patternNames = new Map();
    const defs = environmentSchema().$defs as Record<string, { pattern?: string }>;
    for (const [name, def] of Object.entries(defs)) if (def.pattern) patternNames.set(def.pattern, name);
  }
  return patternNames;
}

/** Schema and semantic problems of a parsed value, positionless. Identical for both parsers. */
export function checkEnvironmentValue(value: unknown): PathProblem[] {
  if (value === null || value === undefined) {
    return [
      { path: [], message: 'the file is empty: expected a mapping that starts with "schema: bp.environment/v1"' },
    ];
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return [{ path: [], message: `the file must hold a mapping (the environment), got ${typeOfValue(value)}` }];
  }
  const validate = environmentValidator();
  const problems = validate(value)
    ? []
    : schemaProblems(validate.errors ?? [], { root: value, data: value, patternNames: environmentPatternNames() });
  problems.push(...semanticProblems(value));
  return problems;
}

/** One YAML text and the name it is reported under. */
export interface SourceText {
  text: string;
  file: string;
}

export interface AnalyzeOptions {
  /** Merged onto the base file in order (see overlays.ts). */
  overlays?: readonly SourceText[];
  /** Values for `${var:NAME}`, over the file's `vars:` defaults. */
  vars?: Variables;
}

export type Analysis =
  { ok: true; value: unknown; positions: Positions } | { ok: false; problems: InputProblem[]; positions?: Positions };

/**
 * Maps a path of the (merged, substituted) document to the file, line and column it was
 * written at. Parses with `yaml` lazily: a clean single file never needs it.
 */
export class Positions {
  private readonly sources: (YamlSource | undefined)[];

  constructor(
    readonly inputs: readonly SourceText[],
    sources: readonly (YamlSource | undefined)[] = [],
    private readonly origins?: Origins,
    /** Paths (joined by NUL) of strings changed by variable substitution. */
    private readonly substituted: ReadonlySet<string> = new Set(),
  ) {
    this.sources = inputs.map((_, i) => sources[i]);
  }

  source(i = 0): YamlSource {
    return (this.sources[i] ??= new YamlSource(this.inputs[i].text));
  }

  originOf(path: JsonPath): Origin {
    return this.origins ? this.origins.originOf(path) : { src: 0, path };
  }

  locate(path: JsonPath, at: 'key' | 'value' | 'auto' = 'auto'): SourcePosition {
    const o = this.originOf(path);
    const source = this.source(o.src);
    return { file: this.inputs[o.src].file, ...source.position(source.offsetOf(o.path, at)) };
  }

  problem(p: PathProblem): InputProblem {
    const o = this.originOf(p.path);
    // An index into a string that substitution changed does not index the text as written.
    const index = this.substituted.has(p.path.join('\0')) ? undefined : p.index;
    const positioned = positionProblem(
      { ...p, path: o.path, index, firstAt: undefined },
      this.source(o.src),
      this.inputs[o.src].file,
    );
    if (p.firstAt) {
      const first = this.locate(p.firstAt);
      positioned.message +=
        first.file === positioned.file
          ? ` (first declared at line ${first.line})`
          : ` (first declared at ${first.file}:${first.line})`;
    }
    return positioned;
  }
}

/** The fast path alone: a value when js-yaml parses and the value is valid, else undefined. */
export function analyzeFast(
  text: string,
  options: AnalyzeOptions = {},
): { value: unknown; problems: PathProblem[]; origins?: Origins; substituted?: Set<string> } | undefined {
  const parsed = parseFast(text);
  if (!parsed.ok) return undefined;
  const overlays: unknown[] = [];
  for (const o of options.overlays ?? []) {
    const v = parseFast(o.text);
    if (!v.ok || !isMapping(v.value)) return undefined;
    overlays.push(v.value);
  }
  const origins = overlays.length > 0 && isMapping(parsed.value) ? mergeOverlays(parsed.value, overlays) : undefined;
  const merged = origins ? origins.merged : parsed.value;
  const sub = substituteVariables(merged, options.vars);
  const problems = withSubstitutionProblems(sub.problems, checkEnvironmentValue(sub.value));
  const substituted = sub.value === merged ? undefined : substitutedPaths(merged, sub.value);
  return { value: sub.value, problems, origins, substituted };
}

/** The slow path alone: `yaml`, bounded aliases, every problem positioned in its own file. */
export function analyzeSlow(text: string, file: string, options: AnalyzeOptions = {}): Analysis {
  const inputs: SourceText[] = [{ text, file }, ...(options.overlays ?? [])];
  const sources = inputs.map((i) => new YamlSource(i.text));
  const problems: InputProblem[] = [];
  const values: unknown[] = [];
  let usable = true;
  sources.forEach((source, i) => {
    const located = (offset: number, message: string): InputProblem => ({
      file: inputs[i].file,
      ...source.position(offset),
      message,
    });
    const syntax = source.syntaxProblems();
    problems.push(...syntax.problems.map((p) => located(p.offset, p.message)));
    if (syntax.fatal) {
      usable = false;
      return;
    }
    const value = source.value();
    usable &&= value.ok && (i === 0 || isMapping(value.value));
    if (!value.ok) problems.push(located(value.problem.offset, value.problem.message));
    else if (i > 0 && !isMapping(value.value)) {
      problems.push(
        located(0, `an overlay must hold a mapping (parts of an environment), got ${typeOfValue(value.value)}`),
      );
    } else values[i] = value.value;
  });
  if (!usable) return { ok: false, problems: sortProblems(problems), positions: new Positions(inputs, sources) };
  const origins = values.length > 1 && isMapping(values[0]) ? mergeOverlays(values[0], values.slice(1)) : undefined;
  const merged = origins ? origins.merged : values[0];
  const sub = substituteVariables(merged, options.vars);
  const positions = new Positions(inputs, sources, origins, substitutedPaths(merged, sub.value));
  const pathProblems = withSubstitutionProblems(sub.problems, checkEnvironmentValue(sub.value));
  for (const p of pathProblems) problems.push(positions.problem(p));
  if (problems.length === 0) return { ok: true, value: sub.value, positions };
  return { ok: false, problems: sortProblems(problems), positions };
}

/** Fast when it can be, slow when it must be. */
export function analyze(text: string, file: string, options: AnalyzeOptions = {}): Analysis {
  const fast = analyzeFast(text, options);
  if (fast && fast.problems.length === 0) {
    const positions = new Positions([{ text, file }, ...(options.overlays ?? [])], [], fast.origins, fast.substituted);
    return { ok: true, value: fast.value, positions };
  }
  return analyzeSlow(text, file, options);
}

/**
 * Substitution problems, plus the value's own problems except those about a string whose
 * reference could not be substituted (its text is not what the operator meant: reporting
 * "not a valid id" for `web-${var:SHA}` would only hide the real cause).
 */
function withSubstitutionProblems(substitution: PathProblem[], value: PathProblem[]): PathProblem[] {
  if (substitution.length === 0) return value;
  const failed = new Set(substitution.map((p) => p.path.join('\0')));
  return [...substitution, ...value.filter((p) => !failed.has(p.path.join('\0')))];
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Paths of the strings that differ between `before` and `after` (same shape). */
function substitutedPaths(before: unknown, after: unknown): Set<string> {
  const out = new Set<string>();
  const path: JsonPath = [];
  const walk = (a: unknown, b: unknown): void => {
    if (a === b) return;
    if (typeof a === 'string') {
      out.add(path.join('\0'));
      return;
    }
    if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object') return;
    for (const k of Object.keys(a)) {
      path.push(Array.isArray(a) ? Number(k) : k);
      walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
      path.pop();
    }
  };
  walk(before, after);
  return out;
}

export function positionProblem(p: PathProblem, source: YamlSource, file: string): InputProblem {
  const offset =
    p.index !== undefined ? source.offsetInString(p.path, p.index) : source.offsetOf(p.path, p.at ?? 'auto');
  const pos = source.position(offset);
  let message = p.message;
  if (p.firstAt) message += ` (first declared at line ${source.position(source.offsetOf(p.firstAt)).line})`;
  return { file, line: pos.line, col: pos.col, message };
}

/** By line, then column, then text; exact repeats dropped. */
export function sortProblems(problems: InputProblem[]): InputProblem[] {
  const sorted = [...problems].sort(
    (a, b) => a.line - b.line || a.col - b.col || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
  return sorted.filter((p, i) => i === 0 || formatKey(p) !== formatKey(sorted[i - 1]));
}

function formatKey(p: InputProblem): string {
  return `${p.file}:${p.line}:${p.col}:${p.message}`;
}
