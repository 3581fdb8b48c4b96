/** `bp plugins lock`: pins the plugins env files name in bp.lock.json beside each file. */
import { dirname, resolve } from 'node:path';
import { builtInTypes } from '../../deployers/registry.js';
import {
  LOCK_FORMAT,
  lockEntryFor,
  lockFileFor,
  readPluginLock,
  type LockedPlugin,
  type PluginLock,
} from '../../deployers/plugin-trust.js';
import { escapeControls } from '../../model/escape.js';
import { writeFileDurable } from '../../state/durable.js';
import { loadEnvironmentFile } from '../../spec/index.js';

export async function pluginsLockCommand(files: string[]): Promise<number> {
  // Grouped by folder: one lock per env file folder, shared by the files in it.
  const byDir = new Map<string, Map<string, LockedPlugin>>();
  for (const file of files) {
    const parsed = await loadEnvironmentFile(file);
    const baseDir = dirname(resolve(file));
    const entries = byDir.get(baseDir) ?? new Map<string, LockedPlugin>();
    byDir.set(baseDir, entries);
    for (const inst of Object.values(parsed.env.deployers)) {
      if (builtInTypes().includes(inst.type) || entries.has(inst.type)) continue;
      entries.set(inst.type, lockEntryFor(inst.type, baseDir));
    }
  }
  for (const [baseDir, entries] of byDir) {
    const lockFile = lockFileFor(baseDir);
    const previous = readPluginLockOrNull(baseDir);
    const plugins: Record<string, LockedPlugin> = { ...(previous?.plugins ?? {}) };
    for (const [type, entry] of entries) {
      const before = previous?.plugins[type];
      const verb = !before
        ? 'locked'
        : before.sha256 === entry.sha256 && before.path === entry.path
          ? 'unchanged'
          : 'updated';
      plugins[type] = entry;
      const what = entry.package
        ? `${entry.package}${entry.version ? `@${entry.version}` : ''} (${entry.path})`
        : entry.path;
      process.stdout.write(`${verb}: ${escapeControls(type)} -> ${escapeControls(what)} sha256:${entry.sha256}\n`);
    }
    const sorted = Object.fromEntries(Object.entries(plugins).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const lock: PluginLock = { format_version: LOCK_FORMAT, plugins: sorted };
    await writeFileDurable(lockFile, JSON.stringify(lock, null, 2) + '\n', { mode: 0o644, what: 'plugin lock' });
    process.stdout.write(
      entries.size === 0
        ? `${lockFile}: no plugins to lock (built-in deployers need none)\n`
        : `Wrote ${lockFile}: commit it beside the env file.\n`,
    );
  }
  return 0;
}

/** A broken lock is replaced, not an error: locking is how an operator repairs it. */
function readPluginLockOrNull(baseDir: string): PluginLock | null {
  try {
    return readPluginLock(baseDir);
  } catch {
    return null;
  }
}
