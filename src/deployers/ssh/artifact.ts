/**
 * What a revision uploads and how it runs remotely. A `command` artifact uploads its
 * working directory (`artifact.cwd`, default the env file's directory); a `binary` uploads
 * that one file. On the host, the program `node` becomes `node_path`, and any argument that
 * names a file inside the uploaded directory names the uploaded copy instead.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { notACommand, workingDirectory } from '../command-artifact.js';

export interface UploadFile {
  /** Path relative to the upload root, `/`-separated. */
  rel: string;
  mode: number;
  sha256: string;
  /** Local file to upload, or literal content. */
  source: { path: string } | { content: Buffer };
}

export interface UploadTree {
  files: UploadFile[];
  dirs: string[];
  /** SHA-256 over every path, mode and content hash: the upload's identity. */
  digest: string;
}

const MAX_FILES = 20_000;
const MAX_BYTES = 1 << 30;
/** Never shipped: version control and bp's own state (it holds router tokens). */
const SKIPPED_DIRS = new Set(['.git', '.bp', '.hg', '.svn']);

function hashFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function treeDigest(files: UploadFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.rel < b.rel ? -1 : 1)))
    h.update(`${f.rel}\0${f.mode & 0o777}\0${f.sha256}\n`);
  return h.digest('hex');
}

function checkName(rel: string): void {
  if (/[\n\r\\]/.test(rel)) {
    throw new ProviderError(
      `cannot upload ${JSON.stringify(rel)}: file names with newlines or backslashes are not supported`,
    );
  }
}

/** Every regular file under `root` (symlinked files followed, symlinked dirs not), skipping `exclude`. */
export function scanDirectory(root: string, exclude: string[] = []): UploadTree {
  const files: UploadFile[] = [];
  const dirs: string[] = [];
  let bytes = 0;
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const abs = join(dir, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (exclude.some((x) => abs === x || abs.startsWith(x + sep))) continue;
      if (entry.isDirectory()) {
        if (SKIPPED_DIRS.has(entry.name)) continue;
        checkName(childRel);
        dirs.push(childRel);
        walk(abs, childRel);
        continue;
      }
      let st;
      try {
        st = statSync(abs);
      } catch {
        continue; // a dangling symlink: nothing to ship
      }
      if (!st.isFile()) continue;
      checkName(childRel);
      bytes += st.size;
      if (files.length >= MAX_FILES || bytes > MAX_BYTES) {
        throw new ProviderError(
          `${root} holds more than ${MAX_FILES} files or 1 GiB; set the revision's artifact.cwd to the application's own directory`,
        );
      }
      files.push({ rel: childRel, mode: st.mode & 0o777, sha256: hashFile(abs), source: { path: abs } });
    }
  };
  walk(root, '');
  return { files, dirs, digest: treeDigest(files) };
}

export interface ArtifactSource {
  /** Local directory whose copy becomes the revision's directory on each host. */
  root: string;
  /** A single file to upload (binary artifacts); otherwise the whole directory. */
  single: string | null;
  /** argv as declared, with paths resolved against `root`. */
  argv: string[];
}

export function artifactSource(revision: DeployerRevision, baseDir: string): ArtifactSource {
  const { artifact } = revision;
  if (artifact.binary) {
    const file = resolve(baseDir, artifact.binary);
    return { root: dirname(file), single: file, argv: [file] };
  }
  if (!artifact.command || artifact.command.length === 0 || !artifact.command[0]) throw notACommand(revision, 'ssh');
  return { root: workingDirectory(revision, baseDir), single: null, argv: [...artifact.command] };
}

/** The files a revision uploads. `exclude` keeps bp's own state out of the upload. */
export function artifactTree(source: ArtifactSource, exclude: string[]): UploadTree {
  if (source.single) {
    let st;
    try {
      st = statSync(source.single);
    } catch {
      throw new ProviderError(`binary ${source.single} does not exist`);
    }
    if (!st.isFile()) throw new ProviderError(`binary ${source.single} is not a file`);
    const files: UploadFile[] = [
      {
        rel: basename(source.single),
        mode: st.mode & 0o777,
        sha256: hashFile(source.single),
        source: { path: source.single },
      },
    ];
    return { files, dirs: [], digest: treeDigest(files) };
  }
  return scanDirectory(source.root, exclude);
}

/** argv on the host: `node` -> node_path, local paths inside the upload -> the uploaded copy. */
export function remoteArgv(source: ArtifactSource, remoteDir: string, nodePath: string): string[] {
  return source.argv.map((arg, i) => {
    if (i === 0 && arg === 'node') return nodePath;
    if (!isAbsolute(arg)) return arg;
    const rel = relative(source.root, arg);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return arg;
    return `${remoteDir}/${rel.split(sep).join('/')}`;
  });
}

export function argvDigest(argv: string[]): string {
  return createHash('sha256').update(JSON.stringify(argv)).digest('hex').slice(0, 16);
}
