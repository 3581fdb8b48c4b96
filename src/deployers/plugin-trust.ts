/**
 * Which plugin code bp may import, decided before anything is imported (docs/security.md).
 * Plugins are pinned Terraform-style in `bp.lock.json` beside the env file: each plugin's
 * resolved path (or package name and version) and the sha256 of its code.
 * - Built-in types need no lock.
 * - Once a lock file exists, every other plugin must be in it with an unchanged hash.
 * - Without a lock file, only plugins inside the env file's directory tree or installed in a
 *   node_modules folder of it or its parents load; anything else must be locked first.
 * `BP_TRUSTED_PLUGIN_DIRS` (the operator's environment, never the file) names more folders
 * whose plugins load without a lock file.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PluginLoadError } from '../model/errors.js';
import { builtInTypes } from './registry.js';

export const LOCK_FILE_NAME = 'bp.lock.json';
export const LOCK_FORMAT = 'bp.lock/v1';
/** A plugin package bigger than this is refused rather than hashed (bounded work and memory). */
const MAX_HASHED_BYTES = 256 * 1024 * 1024;

export interface LockedPlugin {
  kind: 'path' | 'package';
  /** Resolved code location: relative to the lock file's folder when inside it, else absolute. */
  path: string;
  package?: string;
  version?: string;
  sha256: string;
}

export interface PluginLock {
  format_version: typeof LOCK_FORMAT;
  /** Keyed by the `type` exactly as env files write it. */
  plugins: Record<string, LockedPlugin>;
}

export interface ResolvedPlugin {
  kind: 'path' | 'package';
  /** Real (symlink-free) path: the file for a path plugin, the package root for a package. */
  root: string;
  package?: string;
  version?: string;
}

export function isPluginPath(type: string): boolean {
  return type.startsWith('./') || type.startsWith('../') || isAbsolute(type) || /\.(m?js|cjs|ts)$/.test(type);
}

export function lockFileFor(baseDir: string): string {
  return join(resolve(baseDir), LOCK_FILE_NAME);
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Where a non-built-in `type` resolves from `baseDir`, without importing anything. */
export function resolvePlugin(type: string, baseDir: string): ResolvedPlugin {
  if (isPluginPath(type)) {
    const file = resolve(baseDir, type);
    try {
      return { kind: 'path', root: realpathSync(file) };
    } catch (e) {
      throw new PluginLoadError(`deployer plugin file ${file} (type "${type}") cannot be read`, { cause: e });
    }
  }
  let entry: string;
  try {
    entry = createRequire(resolve(baseDir, 'package.json')).resolve(type);
  } catch (e) {
    throw new PluginLoadError(
      `deployer type "${type}" is neither a built-in type (${builtInTypes().join(', ')}) nor an installed npm package; ` +
        `install it with: npm install ${type}`,
      { cause: e },
    );
  }
  for (let dir = dirname(realOrResolved(entry)); ; dir = dirname(dir)) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === type) {
      return { kind: 'package', root: dir, package: type, version: String(manifest.version ?? '') };
    }
    if (dirname(dir) === dir) break;
  }
  return { kind: 'path', root: realOrResolved(entry), package: type };
}

function readManifest(path: string): { name?: unknown; version?: unknown } | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return null;
  }
}

/**
 * sha256 of a plugin's code: the file itself, or for a package every file under its root
 * (nested node_modules excluded), each as its relative path and bytes, in sorted order.
 */
export function hashPlugin(p: ResolvedPlugin): string {
  const hash = createHash('sha256');
  if (statSync(p.root).isFile()) {
    hashFile(hash, p.root, { total: 0 });
    return hash.digest('hex');
  }
  const budget = { total: 0 };
  for (const rel of listFiles(p.root, '')) {
    hash.update(`${rel}\0`);
    hashFile(hash, join(p.root, rel), budget);
    hash.update('\0');
  }
  return hash.digest('hex');
}

function listFiles(root: string, rel: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== '.git') out.push(...listFiles(root, child));
    } else if (e.isFile() || e.isSymbolicLink()) {
      out.push(child);
    }
  }
  return out;
}

function hashFile(hash: ReturnType<typeof createHash>, file: string, budget: { total: number }): void {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      budget.total += n;
      if (budget.total > MAX_HASHED_BYTES) {
        throw new PluginLoadError(
          `deployer plugin code at ${file} is over ${MAX_HASHED_BYTES} bytes; refusing to hash it`,
        );
      }
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads `bp.lock.json` of `baseDir`; null when there is none. */
export function readPluginLock(baseDir: string): PluginLock | null {
  const file = lockFileFor(baseDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PluginLoadError(`cannot read the plugin lock ${file}: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PluginLoadError(`plugin lock ${file} is not valid JSON; recreate it with: bp plugins lock`, { cause: e });
  }
  const lock = doc as Partial<PluginLock>;
  if (
    lock?.format_version !== LOCK_FORMAT ||
    typeof lock.plugins !== 'object' ||
    lock.plugins === null ||
    Array.isArray(lock.plugins)
  ) {
    throw new PluginLoadError(
      `plugin lock ${file} is not a ${LOCK_FORMAT} file (format_version and plugins); recreate it with: bp plugins lock`,
    );
  }
  return lock as PluginLock;
}

/** The lock entry recording `type` as it resolves from `baseDir` now. */
export function lockEntryFor(type: string, baseDir: string): LockedPlugin {
  const p = resolvePlugin(type, baseDir);
  const rel = relative(resolve(baseDir), p.root);
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  return {
    kind: p.kind,
    path: inside ? rel.split(sep).join('/') : p.root,
    ...(p.package !== undefined ? { package: p.package } : {}),
    ...(p.version !== undefined ? { version: p.version } : {}),
    sha256: hashPlugin(p),
  };
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function trustedDirs(env: NodeJS.ProcessEnv): string[] {
  return (env.BP_TRUSTED_PLUGIN_DIRS ?? '')
    .split(delimiter)
    .filter((d) => d.trim() !== '')
    .map((d) => realOrResolved(d));
}

/**
 * Throws a PluginLoadError unless `type` may be imported for an env file in `baseDir`.
 * Reads and hashes files; never imports them. Built-in types are always trusted.
 */
export function assertPluginTrusted(
  type: string,
  baseDir: string,
  builtIn: boolean,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (builtIn) return;
  const lockFile = lockFileFor(baseDir);
  const accept = `if you trust it, record it with: bp plugins lock <env file> (writes ${lockFile})`;
  const lock = readPluginLock(baseDir);
  const resolved = resolvePlugin(type, baseDir);
  if (!lock) {
    const base = realOrResolved(baseDir);
    if (within(resolved.root, base)) return;
    if (resolved.kind === 'package' && inNodeModulesOf(resolved.root, base)) return;
    if (trustedDirs(env).some((d) => within(resolved.root, d))) return;
    throw new PluginLoadError(
      `deployer plugin "${type}" resolves to ${resolved.root}, outside the env file's folder ${base} and its node_modules; ` +
        `plugins from elsewhere load only when locked; ${accept}`,
    );
  }
  const entry = Object.hasOwn(lock.plugins, type) ? lock.plugins[type] : undefined;
  if (!entry) throw new PluginLoadError(`deployer plugin "${type}" is not in the plugin lock ${lockFile}; ${accept}`);
  const now = lockEntryFor(type, baseDir);
  if (entry.path !== now.path) {
    throw new PluginLoadError(
      `deployer plugin "${type}" now resolves to ${now.path}, but ${lockFile} locked ${String(entry.path)}; ${accept}`,
    );
  }
  if (entry.sha256 !== now.sha256) {
    throw new PluginLoadError(
      `deployer plugin "${type}" (${now.path}${now.version ? ` version ${now.version}` : ''}) changed since it was locked: ` +
        `sha256 ${now.sha256}, locked ${String(entry.sha256)}${entry.version && entry.version !== now.version ? ` (version ${entry.version})` : ''}; ${accept}`,
    );
  }
}

function inNodeModulesOf(path: string, baseDir: string): boolean {
  for (let dir = baseDir; ; dir = dirname(dir)) {
    if (within(path, join(dir, 'node_modules'))) return true;
    if (dirname(dir) === dir) return false;
  }
}
