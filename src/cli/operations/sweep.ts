import { exitNow } from '../../deployers/plugin-guard.js';
import { setMaxListeners } from 'node:events';
/**
 * `bp sweep FILE [--watch INTERVAL]`: archive revisions whose TTL passed and that carry no
 * traffic. One pass, or (with --watch) a pass every INTERVAL until SIGINT/SIGTERM. Each
 * pass re-reads the file, takes the lock only if something expired, and reports revisions
 * kept because they still carry traffic. Notifications go out as for apply.
 */
import { loadDesired } from '../../apply/desired.js';
import { loadOptionsFrom, type SourceFlags } from '../inputs.js';
import type { EngineContext } from '../../apply/engine.js';
import { RunNotifications } from '../../apply/notify/run-notifications.js';
import { SWEEP_RETRY, repeatUntilStopped, sweepEnvironment, type SweepOutcome } from '../../apply/sweep.js';
import { UsageError } from '../../model/errors.js';
import { durationFlagMs, engineContext, historyOptions, stepTimeoutsFlag, type CommonFlags } from '../context.js';
import { errorMessageFor } from '../errors.js';
import { applyViewFor } from '../views/live-apply-view.js';
import { line as jsonLine } from '../../apply/event-stream.js';
import { styleFor, type Style } from '../views/style.js';

export interface SweepFlags extends CommonFlags, SourceFlags {
  watch?: string;
  json: boolean;
  'lock-timeout': string;
  parallelism: number;
  target?: string[];
  refresh: string;
  'step-timeout'?: string;
  'history-limit'?: number;
}

const MIN_WATCH_MS = 1000;

export async function sweepCommand(file: string, flags: SweepFlags): Promise<number> {
  const watchMs = flags.watch === undefined ? null : durationFlagMs(flags.watch, 'watch');
  if (watchMs !== null && watchMs < MIN_WATCH_MS)
    throw new UsageError(`--watch takes an interval of at least 1s, not "${flags.watch}"`);
  const lockTimeoutMs = durationFlagMs(flags['lock-timeout'], 'lock-timeout');
  const timeoutsMs = stepTimeoutsFlag(flags['step-timeout']);

  const write = (s: string) => process.stdout.write(s);
  const style = styleFor(process.stdout);
  const view = applyViewFor(flags.json, process.stdout, style);
  let notify: RunNotifications | null = null;
  const ctx: EngineContext = await engineContext(flags, (e) => {
    view.event(e);
    notify?.event(e);
  });

  const stop = new AbortController();
  const kill = new AbortController();
  setMaxListeners(0, stop.signal, kill.signal);
  let changing = false;
  const onSignal = () => {
    if (!stop.signal.aborted) {
      // Between passes there is nothing to wind down: the watcher just ends.
      if (changing) view.event({ type: 'interrupting', hard: false });
      stop.abort();
    } else if (!kill.signal.aborted) {
      view.event({ type: 'interrupting', hard: true });
      kill.abort();
      setTimeout(() => exitNow(130), 3000).unref();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const expiredSeen = new Set<string>();
  let last: SweepOutcome | null = null;
  const pass = async (): Promise<SweepOutcome> => {
    const desired = await loadDesired(file, await loadOptionsFrom(flags));
    notify = new RunNotifications(desired.env, 'sweep', process.env, { expiredSeen, baseDir: desired.baseDir });
    const n = notify;
    let outcome: SweepOutcome;
    try {
      outcome = await sweepEnvironment(ctx, {
        history: historyOptions(flags),
        desired: desired.env,
        baseDir: desired.baseDir,
        targets: flags.target,
        refresh: flags.refresh !== 'false',
        lockTimeoutMs,
        parallelism: flags.parallelism,
        timeoutsMs,
        retry: { ...SWEEP_RETRY, baseDelayMs: Number(process.env.BP_RETRY_BASE_MS ?? SWEEP_RETRY.baseDelayMs) },
        stop: stop.signal,
        kill: kill.signal,
        onLockTakeover: (message) => view.event({ type: 'warning', message }),
        onStart: (plan) => {
          changing = true;
          n.started(plan);
        },
      });
    } catch (e) {
      changing = false;
      n.errored(e);
      for (const message of await n.settle()) view.event({ type: 'warning', message });
      throw e;
    }
    changing = false;
    n.finished(outcome.result);
    for (const message of await n.settle()) view.event({ type: 'warning', message });
    last = outcome;
    view.flush(); // the live region is empty and every step line out before the report
    report(outcome, flags.json, write, style, watchMs !== null);
    return outcome;
  };

  try {
    if (watchMs === null) {
      const outcome = await pass();
      if (outcome.result?.interrupted) return 130;
      return outcome.failed.length > 0 ? 1 : 0;
    }
    if (!flags.json) write(`Sweeping environment file ${file} every ${flags.watch}; stop with Ctrl-C or SIGTERM.\n`);
    await repeatUntilStopped({
      intervalMs: watchMs,
      stop: stop.signal,
      pass: async () => {
        await pass();
      },
      onError: (e) => {
        // A failed pass is reported and the watcher goes on; the next pass retries.
        process.stderr.write(`${errorMessageFor(e)}\n`);
      },
    });
    if (!flags.json) write('Sweeper stopped.\n');
    return (last as SweepOutcome | null)?.result?.interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    view.close();
    await ctx.backend.close();
  }
}

function report(o: SweepOutcome, json: boolean, write: (s: string) => void, style: Style, watching: boolean): void {
  if (json) {
    write(
      JSON.stringify(
        jsonLine('sweep.finished', {
          environment_id: o.plan.environment_id,
          locked: o.locked,
          archived: o.archived,
          failed: o.failed,
          kept_with_traffic: o.keptWithTraffic,
          held_by_drift: o.heldByDrift,
          interrupted: Boolean(o.result?.interrupted),
        }),
      ) + '\n',
    );
    return;
  }
  const at = watching ? `[${new Date().toISOString()}] ` : '';
  // When the engine ran, the rendered plan already listed the expired revisions.
  if (!o.locked) {
    for (const x of o.keptWithTraffic) {
      write(
        `${at}${style.yellow('Warning:')} revision ${x.deployment_id}/${x.revision_id} expired at ${x.expired_at} but still carries traffic; ` +
          'it is not archived until its weight is 0\n',
      );
    }
  }
  for (const x of o.heldByDrift) {
    write(
      `${at}${style.yellow('Warning:')} revision ${x.deployment_id}/${x.revision_id} expired, but the split of "${x.deployment_id}" ` +
        'changed outside bp; run bp apply to enforce it, then sweep\n',
    );
  }
  for (const f of o.failed) write(`${at}  ${f.deployment_id}/${f.revision_id}: ${f.error}\n`);
  const kept =
    o.keptWithTraffic.length > 0
      ? `; ${count(o.keptWithTraffic.length, 'expired revision')} kept because ${o.keptWithTraffic.length === 1 ? 'it carries' : 'they carry'} traffic`
      : '';
  if (o.result === null && o.archived.length === 0) {
    write(`${at}Nothing to sweep in environment "${o.plan.environment_id}"${kept}.\n`);
    return;
  }
  const archived = o.archived.map((r) => `${r.deployment_id}/${r.revision_id}`).join(', ');
  const counts = `${count(o.archived.length, 'revision')} archived${archived ? ` (${archived})` : ''}, ${o.failed.length} failed${kept}`;
  if (o.result?.interrupted) write(`${at}${style.yellow(`Sweep interrupted: ${counts}.`)}\n`);
  else if (o.failed.length > 0) write(`${at}${style.red(`Sweep failed: ${counts}.`)}\n`);
  else write(`${at}${style.green(`Sweep complete: ${counts}.`)}\n`);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
