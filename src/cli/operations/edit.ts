/**
 * `bp revision add`, `bp revision retire`, `bp traffic set`: edit an env file for a pipeline.
 * The new text is validated like any env file before anything is written, written atomically
 * (temporary file, fsync, rename), and shown as a unified diff. An invalid result is never
 * written: the file stays as it was and the problems are reported against the edited text.
 */
import { stat, readFile } from 'node:fs/promises';
import { createTwoFilesPatch } from 'diff';
import { BpError, InvalidInputError, UsageError } from '../../model/errors.js';
import { parseEnvironment } from '../../spec/parse.js';
import {
  addRevisionText,
  parseWeights,
  retireRevisionText,
  setTrafficText,
  type AddRevisionOptions,
} from '../../spec/edit/edits.js';
import { writeFileDurable } from '../../state/durable.js';
import { loadOptionsFrom, type SourceFlags } from '../inputs.js';

export interface EditFlags extends SourceFlags {
  'dry-run'?: boolean;
}

/** Reads, transforms, validates, writes and prints the diff; returns the exit code. */
export async function editFile(file: string, flags: EditFlags, transform: (text: string) => string): Promise<number> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  const next = transform(text);
  if (next === text) {
    process.stdout.write(`${file}: no changes\n`);
    return 0;
  }
  const options = await loadOptionsFrom({ var: flags.var, 'var-file': flags['var-file'] });
  try {
    parseEnvironment(next, file, { vars: options.vars });
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    const lines = e.problems.map((p) => `  line ${p.line}:${p.col}: ${p.message}`).join('\n');
    throw new BpError('InvalidInput', `${file} left unchanged: the edit would make it invalid:\n${lines}`, {
      cause: e,
    });
  }
  if (!flags['dry-run']) {
    const mode = (await stat(file)).mode & 0o777;
    await writeFileDurable(file, next, { mode, what: 'env file' });
  }
  process.stdout.write(
    createTwoFilesPatch(file, file, text, next, undefined, undefined, { context: 3 }).replace(/^Index: .*\n=+\n/, ''),
  );
  return 0;
}

export function revisionAddCommand(file: string, o: AddRevisionOptions, flags: EditFlags): Promise<number> {
  return editFile(file, flags, (text) => addRevisionText(text, file, o));
}

export function revisionRetireCommand(
  file: string,
  deployment: string,
  revision: string,
  flags: EditFlags,
): Promise<number> {
  return editFile(file, flags, (text) => retireRevisionText(text, file, deployment, revision));
}

export function trafficSetCommand(
  file: string,
  deployment: string,
  weights: string[],
  flags: EditFlags,
): Promise<number> {
  const entries = parseWeights(weights);
  return editFile(file, flags, (text) => setTrafficText(text, file, deployment, entries));
}

/** `--env K=V` pairs. */
export function parseEnvPairs(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env takes KEY=VALUE, not ${JSON.stringify(p)}`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
