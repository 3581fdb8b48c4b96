/**
 * A sample of the fuzzed env files through the real CLI (`bin/bp` child processes): exit 0
 * or 1 only, never a stack trace, and for a rejected file exactly the FILE:LINE:COL lines the
 * parser reports in-process, within a bounded time. One case per 100 in-process cases (at
 * least 6), so `npm run test:fuzz` sends 100 files through the CLI.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors.js';
import { parseEnvironment } from '../../src/spec/index.js';
import { bp, tempDir, writeFile } from '../helpers/cli.js';
import { envFileText, FUZZ_RUNS } from './env-arbitraries.js';

const CLI_CASES = Math.max(6, Math.ceil(FUZZ_RUNS / 100));
const MAX_MS_PER_RUN = 30_000;
const work = tempDir('bp-fuzz-cli-');
afterAll(() => work.cleanup());

function inProcessProblems(text: string): string[] | null {
  try {
    parseEnvironment(text, 'fuzz.yaml');
    return null;
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    return e.message.split('\n');
  }
}

describe('fuzzed env files through bin/bp', () => {
  it(
    `${CLI_CASES} files: bp plan exits 0 or 1 with the parser's own FILE:LINE:COL lines, never a stack`,
    async () => {
      const samples = fc.sample(envFileText, {
        numRuns: CLI_CASES,
        seed: Number(process.env.BP_FUZZ_SEED ?? 20261125) + 1,
      });
      let rejected = 0;
      for (const [i, text] of samples.entries()) {
        writeFile(join(work.dir, 'fuzz.yaml'), text);
        const started = Date.now();
        const r = await bp(['plan', 'fuzz.yaml', '--refresh=false', '--state-dir', join(work.dir, `state-${i}`)], {
          cwd: work.dir,
          env: { SECRET: 's3cr3t-value', HOOK_SECRET: 'h00k' },
        });
        const context = `case ${i}: ${JSON.stringify(text.slice(0, 300))}\n${r.stderr.slice(0, 2000)}`;
        expect(Date.now() - started, context).toBeLessThan(MAX_MS_PER_RUN);
        expect(r.signal, context).toBeNull();
        expect([0, 1], context).toContain(r.code);
        expect(r.stderr, context).not.toMatch(/^\s+at .+[(:]\d+/m);
        const expected = inProcessProblems(text);
        if (expected) {
          rejected++;
          expect(r.code, context).toBe(1);
          expect(r.stderr.trimEnd().split('\n'), context).toEqual(expected);
        } else if (r.code === 1) {
          // A valid file can still fail later (a deployer type that does not exist): one
          // sentence, or problems positioned in the file.
          const lines = r.stderr.trimEnd().split('\n');
          const oneSentence = lines.length === 1 && /^Error: \S/.test(lines[0]);
          expect(oneSentence || lines.every((l) => /^fuzz\.yaml:\d+:\d+: \S/.test(l)), context).toBe(true);
        }
      }
      expect(rejected).toBeGreaterThan(0);
    },
    60_000 + CLI_CASES * MAX_MS_PER_RUN,
  );
});
