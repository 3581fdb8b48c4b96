/** `bp rollback ENV DEPLOYMENT [--to ENTRY]`. */
import { formatSplit } from '../../plan/rollout.js';
import { runOnRecordedState, type RecordedStateFlags } from './recorded-run.js';

export interface RollbackFlags extends RecordedStateFlags {
  to?: number;
}

export async function rollbackCommand(env: string, deployment: string, flags: RollbackFlags): Promise<number> {
  const { rollbackDeployment } = await import('../../apply/rollback.js');
  const target = { environmentId: env, deploymentId: deployment, operation: 'rollback' };
  return runOnRecordedState(
    target,
    flags,
    (ctx, run) => rollbackDeployment(ctx, { ...run, to: flags.to, parallelism: 2 }),
    ({ entry }, code) =>
      code !== 0
        ? undefined
        : `Rolled ${deployment} back to the split of entry #${entry.id}: ${formatSplit(entry.splits[deployment] ?? [])}. ` +
          `bp plan reports it as diverged until the file asks for this split or for something new.`,
  );
}
