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
  return { dir, problems };
}
