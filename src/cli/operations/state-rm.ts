/** `bp state rm ENV [DEPLOYMENT|REVISION]`: forget recorded state, under the environment's lock. */
import { BpError } from '../../model/errors.js';
import { forget } from '../../plan/forget.js';
import { applyMutation } from '../../model/state.js';
import { historyEntry } from '../../plan/history.js';
import { durationFlagMs, engineContext, historyOptions, type CommonFlags } from '../context.js';

export async function stateRmCommand(
  env: string,
  target: string | undefined,
  flags: CommonFlags & { force: boolean; 'lock-timeout': string; 'history-limit'?: number },
): Promise<number> {
  const ctx = await engineContext(flags, () => undefined);
  try {
    const session = await ctx.backend.lock(env, {
      operation: 'state rm',
      timeoutMs: durationFlagMs(flags['lock-timeout'], 'lock-timeout'),
    });
    try {
      if (!session.state)
        throw new BpError('Usage', `environment "${env}" has no recorded state in ${ctx.backend.description}`);
      const result = forget(session.state, target, ctx.clock());
      if (result.live.length > 0 && !flags.force) {
        throw new BpError(
          'Usage',
          `refusing to forget revisions that may still run: ${result.live.join(', ')} (not archived); ` +
            `run bp destroy first, or pass --force to leave them running unmanaged`,
        );
      }
      const what =
        target === undefined ? `everything recorded for environment "${env}"` : `"${target}" of environment "${env}"`;
      // The forgetting is history too (who forgot what, and what was left running unmanaged).
      const history = historyOptions({ 'history-limit': flags['history-limit'] }, 'state rm');
      const entry = historyEntry({
        state: result.state,
        operation: 'state rm',
        actor: history.actor,
        at: ctx.clock(),
        plan: null,
        planDigest: null,
        counts: null,
        deployments: [],
        note:
          `forgot ${target === undefined ? 'everything' : target}: ${result.deployments.length} deployment(s), ` +
          `${result.revisions.length} revision(s)${result.live.length > 0 ? `; left running unmanaged: ${result.live.join(', ')}` : ''}`,
      });
      applyMutation(result.state, { kind: 'history', entry, limit: history.limit });
      // begin writes the forgotten state as the next serial: a saved plan made before is stale now.
      await session.begin(result.state);
      await session.checkpoint({ ...result.state, serial: result.state.serial + 1 });
      process.stdout.write(
        `Forgot ${what}: ${result.deployments.length} deployment(s), ${result.revisions.length} revision(s)` +
          `${result.live.length > 0 ? `; left running unmanaged: ${result.live.join(', ')}` : ''}.\n` +
          `The next apply plans ${target === undefined ? 'the environment' : 'them'} from scratch (new revisions are staged again).\n`,
      );
      return 0;
    } finally {
      await session.release();
    }
  } finally {
    await ctx.backend.close();
  }
}
