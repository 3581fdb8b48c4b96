/**
 * Records on this machine, under a deployer's private state dir (0700, files 0600): JSON
 * written atomically (temp file + rename), ids checked before they become path segments.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ID_REGEX } from '../../model/environment.js';
import { asIoError } from '../../model/io-error.js';
import { ProviderError, StateCorruptError } from '../../model/errors.js';

export function safeId(id: string): string {
  if (!ID_REGEX.test(id)) throw new ProviderError(`"${id}" is not a valid id for a path segment`);
  return id;
}

export function readJson<T>(file: string): T | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ProviderError(`cannot read ${file}: ${(e as Error).message}`, { cause: e, retryable: true });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new StateCorruptError(`${file} is not valid JSON; remove it after stopping what it describes`, { cause: e });
  }
}

export function writeJson(file: string, value: unknown): void {
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    throw asIoError('write deployer record', file, e);
  }
}

/** `root/parts...`, created (0700) when missing. */
export function privateDir(root: string, ...parts: string[]): string {
  const d = join(root, ...parts);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

/** The last lines of a log, for error messages an operator can act on. */
export function logTail(file: string, lines = 10): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    if (!text) return '(log is empty)';
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
