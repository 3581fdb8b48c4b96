/**
 * The frame of the commands that change a deployment from recorded state alone, with no env
 * file (`bp rollback`, `bp rollout promote|abort`): the live apply view (without the plan: the
 * operator named the change), Ctrl-C handling, and the request fields they share.
 */
import type { EngineContext, HistoryOptions } from '../../apply/engine.js';
import type { ApplyResult } from '../../apply/events.js';
import type { RetryPolicy } from '../../apply/retry.js';
import { applyExitCode } from '../../plan/exit-codes.js';
import { durationFlagMs, engineContext, historyOptions, retryPolicyFrom, type CommonFlags } from '../context.js';
import { applyViewFor } from '../views/live-apply-view.js';
import { styleFor } from '../views/style.js';
import { interruptHandlers } from './interrupts.js';

/** The flags every such command has (src/cli/flags.ts `recordedStateFlags`). */
export interface RecordedStateFlags extends CommonFlags {
  json: boolean;
  'lock-timeout': string;
  retries: number;
  'history-limit'?: number;
}

/** Which deployment changes, and the operation's name in history (rollback, promote, abort). */
export interface RecordedStateTarget {
  environmentId: string;
  deploymentId: string;
  operation: string;
}

/** What every such request carries besides its own fields. */
export interface RecordedStateRun {
  environmentId: string;
  deploymentId: string;
  history: HistoryOptions;
  baseDir: string;
  lockTimeoutMs: number;
  retry: RetryPolicy;
  stop: AbortSignal;
  kill: AbortSignal;
}

/**
 * Runs `change` under the view and interrupt handlers and returns the apply exit code;
 * `summary` is the sentence text output ends with (none with --json).
 */
export async function runOnRecordedState<O extends { result: ApplyResult | null }>(
  target: RecordedStateTarget,
  flags: RecordedStateFlags,
  change: (ctx: EngineContext, run: RecordedStateRun) => Promise<O>,
  summary: (outcome: O, exitCode: number) => string | undefined,
): Promise<number> {
  const view = applyViewFor(flags.json, process.stdout, styleFor(process.stdout));
  const ctx = await engineContext(flags, (e) => {
    if (e.type !== 'plan_ready') view.event(e);
  });
  const interrupts = interruptHandlers((e) => view.event(e));
  try {
    const outcome = await change(ctx, {
      environmentId: target.environmentId,
      deploymentId: target.deploymentId,
      history: historyOptions(flags, target.operation),
      baseDir: process.cwd(),
      lockTimeoutMs: durationFlagMs(flags['lock-timeout'], 'lock-timeout'),
      retry: retryPolicyFrom(flags),
      stop: interrupts.stop,
      kill: interrupts.kill,
    });
    view.finish(outcome.result);
    const code = applyExitCode(outcome.result);
    const text = flags.json ? undefined : summary(outcome, code);
    if (text) process.stdout.write(`${text}\n`);
    return code;
  } finally {
    interrupts.dispose();
    view.close();
    await ctx.backend.close();
  }
}
