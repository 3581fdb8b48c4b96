/**
 * Revisions whose artifact is a program to run (`artifact.command` or `artifact.binary`), as
 * local-process and ssh run them: the refusal of any other artifact, and the working directory.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DeployerRevision } from '../model/deployer.js';
import { ProviderError } from '../model/errors.js';

/** Why `deployer` cannot run the revision: its artifact is an image, or declares nothing. */
export function notACommand(revision: DeployerRevision, deployer: string): ProviderError {
  const { artifact, revision_id: id } = revision;
  const what = artifact.image ? `an image (${artifact.image})` : 'no command';
  return new ProviderError(
    `revision "${id}" declares ${what}; the ${deployer} deployer runs artifact.command or artifact.binary`,
  );
}

/** `artifact.cwd` (default: the env file's directory `baseDir`) as an absolute path; throws when it is no directory. */
export function workingDirectory(revision: DeployerRevision, baseDir: string): string {
  const cwd = resolve(baseDir, revision.artifact.cwd ?? '.');
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir) throw new ProviderError(`revision "${revision.revision_id}": working directory ${cwd} does not exist`);
  return cwd;
}
