/** `bp rollout status|promote|abort`. */
import type { OperatorDecision } from '../../apply/rollout-control.js';
import { BpError, UsageError } from '../../model/errors.js';
import { OUTPUT_FORMATS } from '../../model/output.js';
import { applyExitCode, rolloutStatusExitCode } from '../../plan/exit-codes.js';
import { cliClock, durationFlagMs, engineContext, historyOptions, type CommonFlags } from '../context.js';
import { applyViewFor } from '../views/live-apply-view.js';
import { renderRolloutRows, rolloutRows, type RolloutRow } from '../views/rollout-view.js';
import { styleFor, type Style } from '../views/style.js';
import { createLogUpdate } from 'log-update';
import type { RolloutStatus } from '../../model/state.js';
import { interruptHandlers } from './interrupts.js';

export interface StatusFlags extends CommonFlags {
  json: boolean;
  'exit-status'?: boolean;
  watch?: boolean;
  interval?: string;
}

/** Rollouts a watcher waits on: a halted one needs a person (promote or abort), so watching ends there too. */
const WATCHED: readonly RolloutStatus[] = ['progressing', 'paused'];

export async function rolloutStatusCommand(
  env: string,
  deployment: string | undefined,
  flags: StatusFlags,
): Promise<number> {
  const ctx = await engineContext(flags, () => undefined);
  const clock = cliClock();
  try {
    const read = async (): Promise<RolloutRow[]> => {
      const state = await ctx.backend.load(env);
      if (!state)
        throw new BpError('Usage', `environment "${env}" has no recorded state in ${ctx.backend.description}`);
      if (deployment !== undefined && !state.deployments[deployment]) {
        throw new BpError('Usage', `environment "${env}" has no deployment "${deployment}"`);
      }
      return rolloutRows(state, deployment, clock());
    };
    const style = styleFor(process.stdout);
    const exit = (rows: RolloutRow[]) => (flags['exit-status'] ? rolloutStatusExitCode(rows.map((r) => r.status)) : 0);
    if (!flags.watch) {
      const rows = await read();
      if (flags.json)
        process.stdout.write(
          JSON.stringify(
            { format_version: OUTPUT_FORMATS.rollout_status, environment_id: env, rollouts: rows },
            null,
            2,
          ) + '\n',
        );
      else process.stdout.write(renderRolloutRows(env, rows, style) + '\n');
      return exit(rows);
    }
    return await watch(env, read, flags, style, exit);
  } finally {
    await ctx.backend.close();
  }
}

/**
 * `--watch`: reads state every interval and shows it again (redrawn in place on a terminal, a
 * new block when it changed otherwise, one JSON object per line with --json) until no rollout
 * shown is progressing or paused. Ctrl-C ends the watch (130); nothing is changed either way.
 */
async function watch(
  env: string,
  read: () => Promise<RolloutRow[]>,
  flags: StatusFlags,
  style: Style,
  exit: (rows: RolloutRow[]) => number,
): Promise<number> {
  const intervalMs = flags.interval ? durationFlagMs(flags.interval, 'interval') : 2000;
  if (intervalMs < 100) throw new UsageError(`--interval takes at least 100ms, not "${flags.interval}"`);
  const live = !flags.json && process.stdout.isTTY && process.env.TERM !== 'dumb';
  const region = live ? createLogUpdate(process.stdout, { showCursor: true }) : null;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let last = '';
  try {
    for (;;) {
      const rows = await read();
      const ended = rows.every((r) => !WATCHED.includes(r.status));
      if (flags.json) {
        process.stdout.write(
          JSON.stringify({
            format_version: OUTPUT_FORMATS.rollout_status,
            environment_id: env,
            ended,
            rollouts: rows,
          }) + '\n',
        );
      } else {
        const text = renderRolloutRows(env, rows, style);
        if (region) region(text);
        else if (text !== last) process.stdout.write(text + '\n\n');
        last = text;
      }
      if (ended) return exit(rows);
      const woke = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), intervalMs);
        stop.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!woke) return 130;
    }
  } finally {
    region?.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
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
