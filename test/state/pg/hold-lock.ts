/**
 * Holds the lock of ENV in the PostgreSQL state at URL and keeps recording, one mutation
 * every 50 ms, until killed or until a write fails (then prints `lost MESSAGE`, exits 3).
 *   node --import tsx hold-lock.ts URL ENV
 */
import { openPostgresStateBackend } from '../../../src/state/postgres.js';
import { freshState, pendingStart } from '../builders.js';

const [url, env] = process.argv.slice(2);
const backend = await openPostgresStateBackend(url);
const session = await backend.lock(env, { operation: 'hold-lock fixture', timeoutMs: 10_000 });
await session.begin(session.state ?? freshState(env));
process.stdout.write(`locked ${JSON.stringify(session.lock)}\n`);
for (let i = 0; ; i++) {
  try {
    await session.record([pendingStart(`hold-${i}`)]);
  } catch (e) {
    process.stdout.write(`lost ${(e as Error).message}\n`);
    process.exit(3);
  }
  await new Promise((r) => setTimeout(r, 50));
}
