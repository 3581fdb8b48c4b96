/** Entry points: env.yaml text or file -> a validated, normalized Environment with source positions. */
import type { Environment } from '../model/environment.js';
import { InvalidInputError, type SourcePosition } from '../model/errors.js';
import { analyze, type AnalyzeOptions, type Positions, type SourceText } from './analyze.js';
import { readBoundedText } from './bounded-read.js';
import { normalizeEnvironment } from './normalize.js';
import type { JsonPath } from './paths.js';
import type { Variables } from './variables.js';

export interface ParsedEnvironment {
  /** Normalized: every default filled in, references unresolved. */
  env: Environment;
  /** As given (used in messages). */
  file: string;
  text: string;
  /**
   * 1-based position of a JSON path like ['deployments', 0, 'revisions', 1, 'artifact']
   * (falls back to the nearest existing ancestor). Lazy: may re-parse with `yaml` on first call.
   */
  locate(path: JsonPath): SourcePosition;
}

// The positions behind each ParsedEnvironment, for callers inside spec that need key-versus-value
// precision (unknown keys in deployer configs point at the key) and overlay origins.
const positionsOf = new WeakMap<ParsedEnvironment, Positions>();

export function sourcePositions(parsed: ParsedEnvironment): Positions | undefined {
  return positionsOf.get(parsed);
}

export interface LoadOptions {
  /** Overlay files merged onto the environment file in order. */
  overlays?: readonly string[];
  /** Values for `${var:NAME}` (over the file's `vars:` defaults). */
  vars?: Variables;
}

/** Parses and validates; throws InvalidInputError carrying every syntax, schema and semantic problem. */
export function parseEnvironment(text: string, file: string, options: AnalyzeOptions = {}): ParsedEnvironment {
  const result = analyze(text, file, options);
  if (!result.ok) throw new InvalidInputError(result.problems);
  const positions = result.positions;
  const parsed: ParsedEnvironment = {
    env: normalizeEnvironment(result.value),
    file,
    text,
    locate: (path: JsonPath): SourcePosition => positions.locate(path),
  };
  positionsOf.set(parsed, positions);
  return parsed;
}

/**
 * Reads and parses a file and its overlays; an unreadable, binary or oversized file is one clear
 * InvalidInput error, not a stack, read with bounded memory.
 */
export async function loadEnvironmentFile(path: string, options: LoadOptions = {}): Promise<ParsedEnvironment> {
  const text = await readBoundedText(path, 'an environment file');
  const overlays: SourceText[] = [];
  for (const o of options.overlays ?? []) overlays.push({ file: o, text: await readBoundedText(o, 'an overlay file') });
  return parseEnvironment(text, path, { overlays, vars: options.vars });
}
