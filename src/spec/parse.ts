/** Entry points: env.yaml text or file -> a validated, normalized Environment with source positions. */
import type { Environment } from '../model/environment.js';
import { InvalidInputError, type SourcePosition } from '../model/errors.js';
import { analyze } from './analyze.js';
import { readBoundedText } from './bounded-read.js';
import { normalizeEnvironment } from './normalize.js';
import type { JsonPath } from './paths.js';
import { YamlSource } from './yaml-source.js';

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

// The source-mapped parse behind each ParsedEnvironment, for callers inside spec that need
// key-versus-value precision (unknown keys in deployer configs point at the key).
const sources = new WeakMap<ParsedEnvironment, () => YamlSource>();

export function sourceOf(parsed: ParsedEnvironment): YamlSource | undefined {
  return sources.get(parsed)?.();
}

/** Parses and validates; throws InvalidInputError carrying every syntax, schema and semantic problem. */
export function parseEnvironment(text: string, file: string): ParsedEnvironment {
  const result = analyze(text, file);
  if (!result.ok) throw new InvalidInputError(result.problems);
  let source = result.source;
  const getSource = (): YamlSource => (source ??= new YamlSource(text));
  const parsed: ParsedEnvironment = {
    env: normalizeEnvironment(result.value),
    file,
    text,
    locate(path: JsonPath): SourcePosition {
      const s = getSource();
      return { file, ...s.position(s.offsetOf(path)) };
    },
  };
  sources.set(parsed, getSource);
  return parsed;
}

/**
 * Reads and parses a file; an unreadable, binary or oversized file is one clear InvalidInput
 * error, not a stack, read with bounded memory.
 */
export async function loadEnvironmentFile(path: string): Promise<ParsedEnvironment> {
  return parseEnvironment(await readBoundedText(path, 'an environment file'), path);
}
