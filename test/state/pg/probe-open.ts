/**
 * Opens a local backend, then a PostgreSQL one, and prints (one JSON line) whether `pg` was
 * loaded before and after, and what opening the PostgreSQL backend gave.
 *   node --import tsx [--import ./hide-pg.mjs] probe-open.ts STATE_DIR URL
 */
import { createRequire } from 'node:module';
import { openStateBackend } from '../../../src/state/index.js';

const [stateDir, url] = process.argv.slice(2);
const cache = createRequire(import.meta.url).cache;
const pgLoaded = (): boolean => Object.keys(cache).some((k) => /[\\/]node_modules[\\/]pg[\\/]/.test(k));

const local = await openStateBackend({ stateDir });
await local.list();
await local.close();
const before = pgLoaded();
let opened: { description?: string; code?: string; message?: string };
try {
  opened = { description: (await openStateBackend({ backend: url })).description };
} catch (e) {
  opened = { code: (e as { code?: string }).code, message: (e as Error).message };
}
process.stdout.write(JSON.stringify({ before, after: pgLoaded(), ...opened }) + '\n');
