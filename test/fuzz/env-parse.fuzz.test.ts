/**
 * Fuzzing the real parse path (parseEnvironment: js-yaml fast path, `yaml` slow path, schema,
 * semantic checks, normalization) and, for files that parse, the planner. Whatever the
 * input: no exception but InvalidInputError, every problem at a real FILE:LINE:COL, an
 * answer within a bounded time. BP_FUZZ_RUNS sets the number of cases (npm run test:fuzz: 10000).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors.js';
import { plan } from '../../src/plan/index.js';
import { parseEnvironment } from '../../src/spec/index.js';
import { excessiveNestingOffset, MAX_NESTING } from '../../src/spec/yaml-source.js';
import { envFileText, FUZZ_RUNS } from './env-arbitraries.js';

/** Per file; generous because CI shares two cores with other suites. Typical cases take ~1 ms. */
const MAX_MS_PER_FILE = 10_000;

function checkVerdict(text: string): 'valid' | 'invalid' {
  const lineCount = text.split(/\r\n|\r|\n/).length;
  let env;
  try {
    env = parseEnvironment(text, 'fuzz.yaml').env;
  } catch (e) {
    expect(e instanceof InvalidInputError, String((e as Error)?.stack ?? e)).toBe(true);
    const err = e as InvalidInputError;
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.file).toBe('fuzz.yaml');
      expect(Number.isInteger(p.line) && p.line >= 1 && p.line <= lineCount + 1, `line ${p.line} of ${lineCount}`).toBe(
        true,
      );
      expect(Number.isInteger(p.col) && p.col >= 1).toBe(true);
      expect(p.message.trim()).not.toBe('');
      // An internal failure leaking through as a "problem" is a crash in disguise.
      expect(p.message).not.toMatch(/Maximum call stack|Cannot read propert|is not a function|undefined \(reading/);
    }
    expect(err.message.split('\n').every((l) => /^fuzz\.yaml:\d+:\d+: \S/.test(l))).toBe(true);
    return 'invalid';
  }
  // A file that parses must plan, deterministically, without throwing.
  const now = new Date('2026-01-01T00:00:00Z');
  const first = plan({ desired: env, recorded: null, now });
  expect(plan({ desired: env, recorded: null, now })).toStrictEqual(first);
  return 'valid';
}

describe('env file fuzzing through parseEnvironment', () => {
  it(
    `${FUZZ_RUNS} generated and damaged files: never a crash, always positioned problems, bounded time`,
    () => {
      const verdicts = { valid: 0, invalid: 0 };
      let slowest = 0;
      fc.assert(
        fc.property(envFileText, (text) => {
          const started = performance.now();
          verdicts[checkVerdict(text)]++;
          const ms = performance.now() - started;
          slowest = Math.max(slowest, ms);
          expect(ms).toBeLessThan(MAX_MS_PER_FILE);
        }),
        { numRuns: FUZZ_RUNS, seed: Number(process.env.BP_FUZZ_SEED ?? 20261125) },
      );
      console.log(
        `fuzz: ${FUZZ_RUNS} files, ${verdicts.valid} valid, ${verdicts.invalid} rejected, slowest ${slowest.toFixed(0)} ms`,
      );
      expect(verdicts.invalid).toBeGreaterThan(0);
    },
    60_000 + FUZZ_RUNS * 200,
  );

  it('refuses ids named after Object.prototype members everywhere an id is declared', () => {
    const text = [
      'schema: bp.environment/v1',
      'environment_id: constructor',
      'deployers:',
      '  hasOwnProperty: { type: local-process }',
      'deployments:',
      '  - deployment_id: valueOf',
      '    deployer: hasOwnProperty',
      '    revisions:',
      '      - revision_id: toString',
      '        artifact: { command: [node, server.js] }',
      '    traffic:',
      '      - { revision_id: toString, weight_bps: 10000 }',
      '',
    ].join('\n');
    let lines: string[] = [];
    try {
      parseEnvironment(text, 'env.yaml');
    } catch (e) {
      lines = (e as InvalidInputError).problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
    }
    expect(lines).toEqual([
      '2:17: environment_id "constructor" is reserved (every JavaScript object has a property of that name): choose another id',
      '4:3: deployer name "hasOwnProperty" is reserved (every JavaScript object has a property of that name): choose another id',
      '6:20: deployment_id "valueOf" is reserved (every JavaScript object has a property of that name): choose another id',
      '9:22: revision_id "toString" is reserved (every JavaScript object has a property of that name): choose another id',
    ]);
  });

  it('reports nesting too deep for the parser as one clear problem, not a stack overflow', () => {
    const deep = `schema: bp.environment/v1\nenvironment_id: demo\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    let lines: string[] = [];
    try {
      parseEnvironment(deep, 'env.yaml');
    } catch (e) {
      lines = (e as InvalidInputError).problems.map((p) => `${p.line}:${p.message}`);
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines).toEqual([
      `3:YAML nesting is too deep to read (more than ${MAX_NESTING} levels): an env file needs only a few`,
    ]);
  });

  it('measures nesting the way YAML does: brackets in quoted strings and comments do not count', () => {
    const brackets = '['.repeat(MAX_NESTING + 5);
    expect(excessiveNestingOffset(`a: "${brackets}"\nb: '${brackets}'\n# ${brackets}\n`)).toBeUndefined();
    expect(excessiveNestingOffset(`a: ${'['.repeat(MAX_NESTING)}${']'.repeat(MAX_NESTING)}\n`)).toBeUndefined();
    expect(excessiveNestingOffset(`a: ${brackets}`)).toBe(3 + MAX_NESTING);
    expect(excessiveNestingOffset(`a:\n${' '.repeat(MAX_NESTING)}b: 1\n`)).toBe(3 + MAX_NESTING - 1);
  });
});
