/** Turns a revision's artifact into something that can be spawned, or says why not. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { notACommand, workingDirectory } from '../command-artifact.js';
import { checkExecArgv, checkExecEnv } from '../kit/exec-limits.js';

export interface ResolvedCommand {
  /** Absolute path of the executable. */
  file: string;
  args: string[];
  cwd: string;
  /** argv as declared, for records and messages. */
  argv: string[];
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function resolveCommand(revision: DeployerRevision, baseDir: string): ResolvedCommand {
  const { artifact, revision_id: id } = revision;
  const argv = artifact.command ?? (artifact.binary ? [artifact.binary] : null);
  if (!argv || argv.length === 0 || !argv[0]) throw notACommand(revision, 'local-process');
  // Resolved env values may be longer than the references validate saw.
  checkExecArgv(id, argv);
  checkExecEnv(id, artifact.env ?? {});
  const cwd = workingDirectory(revision, baseDir);

  const [first, ...args] = argv;
  let file: string | null;
  if (first.includes('/')) {
    file = isAbsolute(first) ? first : resolve(cwd, first);
    if (!isExecutable(file)) {
      throw new ProviderError(`revision "${id}": ${file} is not an executable file`);
    }
  } else {
    // `node` works even when bp was started by absolute path with no node on PATH.
    file = onPath(first) ?? (first === 'node' ? process.execPath : null);
    if (!file) throw new ProviderError(`revision "${id}": command "${first}" is not on PATH`);
  }
  return { file, args, cwd, argv };
}
