/** `bp rollback ENV DEPLOYMENT [--to ENTRY]`. */
import { applyExitCode } from '../../plan/exit-codes.js';
import { formatSplit } from '../../plan/rollout.js';
import { durationFlagMs, engineContext, historyOptions, type CommonFlags } from '../context.js';
import { applyViewFor } from '../views/live-apply-view.js';
import { styleFor } from '../views/style.js';
import { interruptHandlers } from './interrupts.js';

export interface RollbackFlags extends CommonFlags {
  to?: number;
  json: boolean;
  'lock-timeout': string;
  retries: number;
  'history-limit'?: number;
}

export async function rollbackCommand(env: string, deployment: string, flags: RollbackFlags): Promise<number> {
  const { rollbackDeployment } = await import('../../apply/rollback.js');
  const view = applyViewFor(flags.json, process.stdout, styleFor(process.stdout));
  const ctx = await engineContext(flags, (e) => {
    if (e.type !== 'plan_ready') view.event(e);
  });
  const interrupts = interruptHandlers((e) => view.event(e));
  try {
    const outcome = await rollbackDeployment(ctx, {
      environmentId: env,
      deploymentId: deployment,
      to: flags.to,
      history: historyOptions(flags, 'rollback'),
      baseDir: process.cwd(),
      lockTimeoutMs: durationFlagMs(flags['lock-timeout'], 'lock-timeout'),
      parallelism: 2,
      retry: { attempts: flags.retries, baseDelayMs: Number(process.env.BP_RETRY_BASE_MS ?? 500), maxDelayMs: 15_000 },
      stop: interrupts.stop,
      kill: interrupts.kill,
    });
    view.finish(outcome.result);
    const code = applyExitCode(outcome.result);
    if (!flags.json && code === 0) {
      process.stdout.write(
        `Rolled ${deployment} back to the split of entry #${outcome.entry.id}: ` +
          `${formatSplit(outcome.entry.splits[deployment] ?? [])}. ` +
          `bp plan reports it as diverged until the file asks for this split or for something new.\n`,
      );
    }
    return code;
  } finally {
    interrupts.dispose();
    view.close();
    await ctx.backend.close();
  }
}
