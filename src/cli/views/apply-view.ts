/**
 * Renders engine events during apply/destroy: line-by-line progress (no spinners, so logs
 * and non-terminals read the same), elapsed time for long-running steps, a summary line.
 * The JSON view streams one `bp.event`-style object per line instead.
 */
import type { ApplyEvent, ApplyResult } from '../../apply/events.js';
import type { PlanStep, Verb } from '../../model/plan.js';
import { colorFor, renderPlan, stepTarget } from './plan-view.js';
import { finishLine as jsonFinishLine, streamLine } from '../../apply/event-stream.js';
import { formatDuration, type Style } from './style.js';

const ING: Record<Verb, string> = {
  stage: 'staging',
  warm: 'warming',
  update: 'updating',
  apply_traffic_split: 'applying split',
  drain: 'draining',
  archive: 'archiving',
};
const ED: Record<Verb, string> = {
  stage: 'staged',
  warm: 'ready',
  update: 'updated',
  apply_traffic_split: 'split applied',
  drain: 'drained',
  archive: 'archived',
};

export interface ApplyView {
  event(e: ApplyEvent): void;
  finish(result: ApplyResult | null, extra?: { cancelled?: boolean; destroy?: boolean }): void;
  /** Writes out everything rendered so far (before a prompt). */
  flush(): void;
  close(): void;
}

/**
 * Joins the writes made in one turn of the event loop into one: a write(2) per progress line
 * was a visible share of an apply's CPU at 10,000 steps. Lines still leave within the turn,
 * before any timer or I/O callback, and `flush` empties the buffer at once.
 */
export function coalescingWriter(write: (s: string) => void): { write(s: string): void; flush(): void } {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const s = pending;
    pending = '';
    write(s);
  };
  return {
    write(s) {
      pending += s;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

export function humanApplyView(
  rawWrite: (s: string) => void,
  style: Style,
  tickMs = Number(process.env.BP_PROGRESS_INTERVAL_MS ?? 10_000),
): ApplyView {
  const out = coalescingWriter(rawWrite);
  const write = out.write;
  const running = new Map<string, { step: PlanStep; at: number }>();
  const timer = setInterval(() => {
    for (const { step, at } of running.values()) {
      write(
        `${stepTarget(step)}: still ${step.rollout ? 'rolling out' : ING[step.verb]}... [${formatDuration(Date.now() - at)} elapsed]\n`,
      );
    }
  }, tickMs);
  timer.unref();
  return {
    event(e) {
      switch (e.type) {
        case 'refresh_started':
          write(style.dim(`Refreshing state through ${e.deployers.map((d) => `"${d}"`).join(', ')}...`) + '\n');
          break;
        case 'plan_ready':
          write(renderPlan(e.plan, style) + '\n\n');
          break;
        case 'step_started':
          running.set(e.step.id, { step: e.step, at: e.at });
          write(`${stepTarget(e.step)}: ${ING[e.step.verb]}...\n`);
          break;
        case 'step_retrying':
          write(
            `${stepTarget(e.step)}: ${style.yellow(`attempt ${e.attempt} failed`)} (${e.error}); retrying in ${formatDuration(e.delayMs)}\n`,
          );
          break;
        case 'step_succeeded':
          running.delete(e.step.id);
          write(
            `${stepTarget(e.step)}: ${colorFor(e.step.verb, style)(ED[e.step.verb])} after ${formatDuration(e.durationMs)}\n`,
          );
          break;
        case 'step_failed':
          running.delete(e.step.id);
          write(
            `${stepTarget(e.step)}: ${style.red(`${e.step.verb} failed`)} after ${formatDuration(e.durationMs)}: ${e.error}\n`,
          );
          break;
        case 'step_skipped':
          write(`${stepTarget(e.step)}: ${e.step.verb} skipped because ${e.because} failed\n`);
          break;
        case 'step_held':
          running.delete(e.step.id);
          write(`${stepTarget(e.step)}: ${style.yellow('rollout holding')}: ${e.message}\n`);
          break;
        case 'step_waiting':
          write(`${stepTarget(e.step)}: ${e.step.verb} waits for the rollout (${e.on})\n`);
          break;
        case 'rollout':
          write(`${e.deployment_id}: rollout of ${e.canary}: ${e.message}\n`);
          break;
        case 'rollout_rolled_back':
          write(`${e.deployment_id}: ${style.red(`rolled back ${e.canary}`)}: ${e.message}\n`);
          break;
        case 'interrupting':
          write(
            e.hard
              ? style.red('Second interrupt: stopping running steps now.\n')
              : style.yellow(
                  'Interrupt received: starting no new step, letting running steps finish (interrupt again to stop at once).\n',
                ),
          );
          break;
        case 'warning':
          write(`${style.yellow('Warning:')} ${e.message}\n`);
          break;
      }
    },
    finish(result, extra) {
      clearInterval(timer);
      try {
        finishLine(result, extra);
      } finally {
        out.flush();
      }
    },
    flush: out.flush,
    close() {
      clearInterval(timer);
      out.flush();
    },
  };

  function finishLine(result: ApplyResult | null, extra?: { cancelled?: boolean; destroy?: boolean }): void {
    if (extra?.cancelled) {
      write('Apply cancelled; nothing was changed.\n');
      return;
    }
    if (!result) return;
    const what = extra?.destroy ? 'Destroy' : 'Apply';
    const counts =
      `${result.succeeded} succeeded, ${result.failed} failed, ${result.skipped} skipped` +
      (result.notStarted ? `, ${result.notStarted} not started` : '') +
      (result.held
        ? `, ${result.held} rollout${result.held === 1 ? '' : 's'} holding (${result.waiting} step${result.waiting === 1 ? '' : 's'} waiting)`
        : '');
    if (result.interrupted)
      write(
        style.yellow(`${what} interrupted: ${counts}.`) +
          ' State records every finished step; run apply again to continue.\n',
      );
    else if (result.failed > 0) write(style.red(`${what} failed: ${counts}.`) + '\n');
    else if (result.held > 0)
      write(
        style.yellow(`${what} paused: ${counts}.`) +
          ' See bp rollout status; run apply again (or with --wait) to go on.\n',
      );
    else write(style.green(`${what} complete: ${counts}.`) + '\n');
  }
}

export function jsonApplyView(rawWrite: (s: string) => void): ApplyView {
  const out = coalescingWriter(rawWrite);
  const write = (o: object) => out.write(JSON.stringify(o) + '\n');
  return {
    event(e) {
      write(streamLine(e));
    },
    finish(result, extra) {
      write(jsonFinishLine(result, extra));
      out.flush();
    },
    flush: out.flush,
    close() {
      out.flush();
    },
  };
}
