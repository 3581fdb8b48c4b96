/** `bp rollout status|promote|abort`. */
import type { OperatorDecision } from '../../apply/rollout-control.js';
import { BpError } from '../../model/errors.js';
import { OUTPUT_FORMATS } from '../../model/output.js';
import { applyExitCode, rolloutStatusExitCode } from '../../plan/exit-codes.js';
import { durationFlagMs, engineContext, historyOptions, type CommonFlags } from '../context.js';
import { applyViewFor } from '../views/live-apply-view.js';
import { renderRolloutRows, rolloutRows } from '../views/rollout-view.js';
import { styleFor } from '../views/style.js';
import { interruptHandlers } from './interrupts.js';

export async function rolloutStatusCommand(
  env: string,
  deployment: string | undefined,
  flags: CommonFlags & { json: boolean; 'exit-status'?: boolean },
): Promise<number> {
  const ctx = await engineContext(flags, () => undefined);
  try {
    const state = await ctx.backend.load(env);
    if (!state) throw new BpError('Usage', `environment "${env}" has no recorded state in ${ctx.backend.description}`);
    if (deployment !== undefined && !state.deployments[deployment]) {
      throw new BpError('Usage', `environment "${env}" has no deployment "${deployment}"`);
    }
    const rows = rolloutRows(state, deployment);
    if (flags.json)
      process.stdout.write(
        JSON.stringify(
          { format_version: OUTPUT_FORMATS.rollout_status, environment_id: env, rollouts: rows },
          null,
          2,
        ) + '\n',
      );
    else process.stdout.write(renderRolloutRows(env, rows, styleFor(process.stdout)) + '\n');
    return flags['exit-status'] ? rolloutStatusExitCode(rows.map((r) => r.status)) : 0;
  } finally {
    await ctx.backend.close();
  }
}

export interface ControlFlags extends CommonFlags {
  json: boolean;
  wait?: string;
  'lock-timeout': string;
  retries: number;
  'history-limit'?: number;
}

export async function rolloutControlCommand(
  env: string,
  deployment: string,
  decision: OperatorDecision,
  flags: ControlFlags,
): Promise<number> {
  const { controlRollout } = await import('../../apply/rollout-control.js');
  const style = styleFor(process.stdout);
  const view = applyViewFor(flags.json, process.stdout, style);
  const ctx = await engineContext(flags, (e) => {
    if (e.type !== 'plan_ready') view.event(e);
  });
  const interrupts = interruptHandlers((e) => view.event(e));
  try {
    const outcome = await controlRollout(ctx, {
      environmentId: env,
      deploymentId: deployment,
      decision,
      history: historyOptions(flags, decision.kind),
      baseDir: process.cwd(),
      lockTimeoutMs: durationFlagMs(flags['lock-timeout'], 'lock-timeout'),
      parallelism: 1,
      retry: { attempts: flags.retries, baseDelayMs: Number(process.env.BP_RETRY_BASE_MS ?? 500), maxDelayMs: 15_000 },
      rolloutWaitMs: flags.wait ? durationFlagMs(flags.wait, 'wait') : 0,
      stop: interrupts.stop,
      kill: interrupts.kill,
    });
    view.finish(outcome.result);
    const p = outcome.progress;
    if (!flags.json) {
      const next =
        p.status === 'completed'
          ? ` Run bp apply with the env file to drain or archive what the file retires.`
          : p.status === 'aborted'
            ? ' The file still asks for the canary: bp plan shows it as diverged until the file changes.'
            : '';
      process.stdout.write(
        `Rollout of ${p.canary} in ${deployment}: ${p.status.replace('_', ' ')}: ${p.message}.${next}\n`,
      );
    }
    return applyExitCode(outcome.result);
  } finally {
    interrupts.dispose();
    view.close();
    await ctx.backend.close();
  }
}
