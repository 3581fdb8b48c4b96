/**
 * `bp validate`'s view of an env file, in-process: the problems `loadDesired` reports (schema,
 * config schemas and each deployer's `checkEnvironment`), as FILE:LINE:COL-positioned lines.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadDesired } from '../../src/apply/desired.js';
import type { InputProblem } from '../../src/model/errors.js';

export type FoundProblem = Pick<InputProblem, 'line' | 'col' | 'message'>;

/** A temp dir for env files, and `problems(name, yaml)`: writes `name.yaml` there and validates it. */
export function validationLab(prefix: string): {
  dir: string;
  problems: (name: string, yaml: string) => Promise<FoundProblem[]>;
  /** Asserts that `yaml` has exactly one problem, at the first `needle`, with a message matching `message`. */
  refusedAt: (name: string, yaml: string, needle: string, message: RegExp) => Promise<void>;
} {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const problems = async (name: string, yaml: string): Promise<FoundProblem[]> => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, yaml);
    try {
      await loadDesired(file);
      return [];
    } catch (e) {
      const list = (e as { problems?: InputProblem[] }).problems;
      if (!list) throw e;
      expect(list.every((p) => p.file === file)).toBe(true);
      return list.map(({ line, col, message }) => ({ line, col, message }));
    }
  };
  const refusedAt = async (name: string, yaml: string, needle: string, message: RegExp): Promise<void> => {
    expect(await problems(name, yaml)).toEqual([
      { ...positionOf(yaml, needle), message: expect.stringMatching(message) },
    ]);
  };
  return { dir, problems, refusedAt };
}

/** Line and column (1-based) where `needle` first occurs in `yaml`: where a problem must point. */
export function positionOf(yaml: string, needle: string): { line: number; col: number } {
  const index = yaml.indexOf(needle);
  expect(index).toBeGreaterThanOrEqual(0);
  const before = yaml.slice(0, index).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}
