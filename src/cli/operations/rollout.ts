/** `bp rollout status|promote|abort`. */
import type { OperatorDecision } from '../../apply/rollout-control.js';
import { BpError, UsageError } from '../../model/errors.js';
import { OUTPUT_FORMATS } from '../../model/output.js';
import { rolloutStatusExitCode } from '../../plan/exit-codes.js';
import { cliClock, durationFlagMs, engineContext, type CommonFlags } from '../context.js';
import { renderRolloutRows, rolloutRows, type RolloutRow } from '../views/rollout-view.js';
import { styleFor, type Style } from '../views/style.js';
import { createLogUpdate } from 'log-update';
import type { RolloutStatus } from '../../model/state.js';
import { runOnRecordedState, type RecordedStateFlags } from './recorded-run.js';

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

export interface ControlFlags extends RecordedStateFlags {
  wait?: string;
}

export async function rolloutControlCommand(
  env: string,
  deployment: string,
  decision: OperatorDecision,
  flags: ControlFlags,
): Promise<number> {
  const { controlRollout } = await import('../../apply/rollout-control.js');
  const target = { environmentId: env, deploymentId: deployment, operation: decision.kind };
  const waitMs = durationFlagMs(flags.wait, 'wait');
  return runOnRecordedState(
    target,
    flags,
    (ctx, run) => controlRollout(ctx, { ...run, decision, parallelism: 1, rolloutWaitMs: waitMs }),
    ({ progress: p }) => {
      const next =
        p.status === 'completed'
          ? ` Run bp apply with the env file to drain or archive what the file retires.`
          : p.status === 'aborted'
            ? ' The file still asks for the canary: bp plan shows it as diverged until the file changes.'
            : '';
      return `Rollout of ${p.canary} in ${deployment}: ${p.status.replace('_', ' ')}: ${p.message}.${next}`;
    },
  );
}
