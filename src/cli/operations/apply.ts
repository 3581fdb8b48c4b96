/** `bp apply` and `bp destroy`: lock, plan (or a saved plan), approve, execute, report. */
import { dirname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadDesired } from '../../apply/desired.js';
import { applyEnvironment, type ApplyOutcome } from '../../apply/engine.js';
import { RunNotifications } from '../../apply/notify/run-notifications.js';
import { UsageError } from '../../model/errors.js';
import { readPlanFile } from './plan-file.js';
import { assertPluginTrusted } from '../../deployers/plugin-trust.js';
import { builtInTypes } from '../../deployers/registry.js';
import type { Plan } from '../../model/plan.js';
import { loadOptionsFrom, type SourceFlags } from '../inputs.js';
import { ExitWith } from '../errors.js';
import { applyExitCode } from '../../plan/exit-codes.js';
import {
  durationFlagMs,
  engineContext,
  historyOptions,
  retryPolicyFrom,
  stepTimeoutsFlag,
  type CommonFlags,
} from '../context.js';
import { applyViewFor } from '../views/live-apply-view.js';
import { interruptHandlers } from './interrupts.js';
import { styleFor } from '../views/style.js';

export interface ApplyFlags extends CommonFlags, SourceFlags {
  'auto-approve': boolean;
  parallelism: number;
  json: boolean;
  'lock-timeout': string;
  target?: string[];
  refresh: string;
  'step-timeout'?: string;
  retries: number;
  wait?: string;
  'history-limit'?: number;
}

/**
 * Asks on stderr once the plan is on screen (the caller flushes the view first). Ctrl-C at the
 * prompt cancels: readline holds the terminal in raw mode, so it arrives as the interface's
 * 'SIGINT', not as a signal to the process; it ends the command with 130 as a signal would.
 */
async function askApproval(plan: Plan, destroy: boolean): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `refusing to ${destroy ? 'destroy' : 'apply'} without --auto-approve: standard input is not a terminal, so the plan cannot be approved interactively`,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const interrupted = new AbortController();
  rl.on('SIGINT', () => interrupted.abort());
  try {
    const answer = await rl.question(
      `\nDo you want to ${destroy ? 'destroy everything in environment' : 'apply these changes to environment'} "${plan.environment_id}"?\n` +
        `  Only 'yes' will be accepted to approve.\n\n  Enter a value: `,
      { signal: interrupted.signal },
    );
    return answer.trim() === 'yes';
  } catch (e) {
    if (interrupted.signal.aborted) {
      process.stderr.write('\n');
      throw new ExitWith(130, `${destroy ? 'Destroy' : 'Apply'} cancelled at the prompt; nothing was changed.`);
    }
    throw e;
  } finally {
    rl.close();
  }
}

export async function applyCommand(input: string, flags: ApplyFlags, mode: 'apply' | 'destroy'): Promise<number> {
  const planFile = mode === 'apply' ? await readPlanFile(input) : null;
  let desired;
  if (planFile) {
    desired = { env: planFile.desired, baseDir: dirname(planFile.source_file), locate: () => null };
    // The plugins a saved plan names are trusted exactly as its env file's would be.
    for (const inst of Object.values(planFile.desired.deployers)) {
      assertPluginTrusted(inst.type, desired.baseDir, builtInTypes().includes(inst.type));
    }
  } else {
    desired = await loadDesired(input, await loadOptionsFrom(flags));
  }
  const stdoutStyle = styleFor(process.stdout);
  const view = applyViewFor(flags.json, process.stdout, stdoutStyle);
  // Webhooks see the same events as the view; they never block or fail the apply.
  const notify = new RunNotifications(desired.env, mode, process.env, { baseDir: desired.baseDir });
  const ctx = await engineContext(flags, (e) => {
    view.event(e);
    notify.event(e);
  });
  const interrupts = interruptHandlers((e) => view.event(e));
  const timeoutsMs = stepTimeoutsFlag(flags['step-timeout']);
  let outcome: ApplyOutcome;
  try {
    outcome = await applyEnvironment(ctx, {
      operation: mode,
      desired: desired.env,
      baseDir: desired.baseDir,
      source: 'parsed' in desired ? desired.parsed : undefined,
      locate: desired.locate,
      savedPlan: planFile?.plan,
      history: historyOptions(flags),
      targets: flags.target,
      destroy: mode === 'destroy' || Boolean(planFile?.plan.destroy),
      refresh: flags.refresh !== 'false',
      lockTimeoutMs: durationFlagMs(flags['lock-timeout'], 'lock-timeout'),
      parallelism: flags.parallelism,
      retry: retryPolicyFrom(flags),
      timeoutsMs,
      rolloutWaitMs: durationFlagMs(flags.wait, 'wait'),
      confirm: async (plan) => {
        // The plan goes out before the question, never after it.
        view.flush();
        const approved = flags['auto-approve'] || planFile ? true : await askApproval(plan, mode === 'destroy');
        if (approved) notify.started(plan);
        return approved;
      },
      stop: interrupts.stop,
      kill: interrupts.kill,
      onLockTakeover: (message) => view.event({ type: 'warning', message }),
    });
  } catch (e) {
    notify.errored(e);
    for (const message of await notify.settle()) view.event({ type: 'warning', message });
    throw e;
  } finally {
    interrupts.dispose();
    view.close();
    await ctx.backend.close();
  }
  notify.finished(outcome.result);
  for (const message of await notify.settle()) view.event({ type: 'warning', message });
  view.finish(outcome.result, { cancelled: outcome.cancelled, destroy: mode === 'destroy' });
  return applyExitCode(outcome.result, outcome.cancelled);
}
