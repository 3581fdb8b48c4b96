/**
 * Turns env.yaml text into either a valid value or every problem with its position.
 * Two parsers, one verdict: js-yaml is fast and takes clean files; `yaml` is slow but
 * bounded and source-mapped, and takes over whenever anything needs reporting or the text
 * has anchors, aliases, tags or directives. Both feed the same `checkEnvironmentValue`.
 */
import type { InputProblem } from '../model/errors.js';
import { parseFast } from './fast-yaml.js';
import type { PathProblem } from './paths.js';
import { environmentSchema, environmentValidator } from './schema.js';
import { schemaProblems, typeOfValue } from './schema-problems.js';
import { semanticProblems } from './semantic-checks.js';
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
    return [{ path: [], message: 'the file is empty: expected a mapping that starts with "schema: bp.environment/v1"' }];
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

export type SourceAnalysis =
  | { ok: true; value: unknown; source: YamlSource | undefined }
  | { ok: false; problems: InputProblem[]; source?: YamlSource };

/** The fast path alone: a value when js-yaml parses and the value is valid, else undefined. */
export function analyzeFast(text: string): { value: unknown; problems: PathProblem[] } | undefined {
  const parsed = parseFast(text);
  if (!parsed.ok) return undefined;
  return { value: parsed.value, problems: checkEnvironmentValue(parsed.value) };
}

/** The slow path alone: `yaml`, bounded aliases, every problem positioned. */
export function analyzeSlow(text: string, file: string): SourceAnalysis {
  const source = new YamlSource(text);
  const located = (offset: number, message: string): InputProblem => ({ file, ...source.position(offset), message });
  const syntax = source.syntaxProblems();
  const problems = syntax.problems.map((p) => located(p.offset, p.message));
  if (!syntax.fatal) {
    const value = source.value();
    if (!value.ok) {
      problems.push(located(value.problem.offset, value.problem.message));
    } else {
      for (const p of checkEnvironmentValue(value.value)) problems.push(positionProblem(p, source, file));
      if (problems.length === 0) return { ok: true, value: value.value, source };
    }
  }
  return { ok: false, problems: sortProblems(problems), source };
}

/** Fast when it can be, slow when it must be. */
export function analyze(text: string, file: string): SourceAnalysis {
  const fast = analyzeFast(text);
  if (fast && fast.problems.length === 0) return { ok: true, value: fast.value, source: undefined };
  return analyzeSlow(text, file);
}

export function positionProblem(p: PathProblem, source: YamlSource, file: string): InputProblem {
  const offset = p.index !== undefined ? source.offsetInString(p.path, p.index) : source.offsetOf(p.path, p.at ?? 'auto');
  const pos = source.position(offset);
  let message = p.message;
  if (p.firstAt) message += ` (first declared at line ${source.position(source.offsetOf(p.firstAt)).line})`;
  return { file, line: pos.line, col: pos.col, message };
}

/** By line, then column, then text; exact repeats dropped. */
export function sortProblems(problems: InputProblem[]): InputProblem[] {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  return sorted.filter((p, i) => i === 0 || formatKey(p) !== formatKey(sorted[i - 1]));
}

function formatKey(p: InputProblem): string {
  return `${p.file}:${p.line}:${p.col}:${p.message}`;
}
