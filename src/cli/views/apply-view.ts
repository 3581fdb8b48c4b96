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

/**
 * The line an event leaves in the output for good (both views), or null for events that only
 * update what is running (started, progress). `step_started` has its own line in the plain view.
 */
export function eventLine(e: ApplyEvent, style: Style): string | null {
  switch (e.type) {
    case 'refresh_started':
      return style.dim(`Refreshing state through ${e.deployers.map((d) => `"${d}"`).join(', ')}...`);
    case 'plan_ready':
      return renderPlan(e.plan, style) + '\n';
    case 'step_started':
    case 'step_progress':
      return null;
    case 'step_retrying':
      return `${stepTarget(e.step)}: ${style.yellow(`attempt ${e.attempt} failed`)} (${e.error}); retrying in ${formatDuration(e.delayMs)}`;
    case 'step_succeeded':
      return `${stepTarget(e.step)}: ${colorFor(e.step.verb, style)(ED[e.step.verb])} after ${formatDuration(e.durationMs)}`;
    case 'step_failed':
      return `${stepTarget(e.step)}: ${style.red(`${e.step.verb} failed`)} after ${formatDuration(e.durationMs)}: ${e.error}`;
    case 'step_skipped':
      return `${stepTarget(e.step)}: ${e.step.verb} skipped because ${e.because} failed`;
    case 'step_held':
      return `${stepTarget(e.step)}: ${style.yellow('rollout holding')}: ${e.message}`;
    case 'step_waiting':
      return `${stepTarget(e.step)}: ${e.step.verb} waits for the rollout (${e.on})`;
    case 'rollout':
      return `${e.deployment_id}: rollout of ${e.canary}: ${e.message}`;
    case 'rollout_rolled_back':
      return `${e.deployment_id}: ${style.red(`rolled back ${e.canary}`)}: ${e.message}`;
    case 'interrupting':
      return e.hard
        ? style.red('Second interrupt: stopping running steps now.')
        : style.yellow(
            'Interrupt received: starting no new step, letting running steps finish (interrupt again to stop at once).',
          );
    case 'warning':
      return `${style.yellow('Warning:')} ${e.message}`;
  }
}

/** What a running step does now: `warming`, or `rolling out` for a rollout's split. */
export function doing(step: PlanStep): string {
  return step.rollout ? 'rolling out' : ING[step.verb];
}

/** `waiting for X: 1/2 replicas healthy, last probe ECONNREFUSED` from the latest progress report. */
export function waitingText(p: { waiting_for: string; status?: string; last?: string } | undefined): string {
  if (!p) return '';
  const how = [p.status, p.last].filter(Boolean).join(', ');
  return `waiting for ${p.waiting_for}${how ? `: ${how}` : ''}`;
}

/**
 * Plain lines, for logs and pipes: each event on its own line, and every `tickMs` a line per
 * running step saying what it still waits for.
 */
export function humanApplyView(
  rawWrite: (s: string) => void,
  style: Style,
  tickMs = Number(process.env.BP_PROGRESS_INTERVAL_MS ?? 10_000),
): ApplyView {
  const out = coalescingWriter(rawWrite);
  const write = out.write;
  const running = new Map<
    string,
    { step: PlanStep; at: number; progress?: { waiting_for: string; status?: string; last?: string } }
  >();
  const timer = setInterval(() => {
    for (const { step, at, progress } of running.values()) {
      const waiting = waitingText(progress);
      write(
        `${stepTarget(step)}: still ${doing(step)}${waiting ? ` (${waiting})` : '...'} [${formatDuration(Date.now() - at)} elapsed]\n`,
      );
    }
  }, tickMs);
  timer.unref();
  return {
    event(e) {
      if (e.type === 'step_started') {
        running.set(e.step.id, { step: e.step, at: e.at });
        write(`${stepTarget(e.step)}: ${ING[e.step.verb]}...\n`);
        return;
      }
      if (e.type === 'step_progress') {
        const r = running.get(e.step.id);
        if (r) r.progress = { waiting_for: e.waiting_for, status: e.status, last: e.last };
        return;
      }
      if (e.type === 'step_succeeded' || e.type === 'step_failed' || e.type === 'step_held') running.delete(e.step.id);
      const line = eventLine(e, style);
      if (line !== null) write(line + '\n');
    },
    finish(result, extra) {
      clearInterval(timer);
      try {
        const line = finishLine(result, extra, style);
        if (line) write(line + '\n');
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
}

/** The last line of an apply, destroy or sweep: what happened, in counts. */
export function finishLine(
  result: ApplyResult | null,
  extra: { cancelled?: boolean; destroy?: boolean } | undefined,
  style: Style,
): string | null {
  if (extra?.cancelled) return 'Apply cancelled; nothing was changed.';
  if (!result) return null;
  const what = extra?.destroy ? 'Destroy' : 'Apply';
  const counts =
    `${result.succeeded} succeeded, ${result.failed} failed, ${result.skipped} skipped` +
    (result.notStarted ? `, ${result.notStarted} not started` : '') +
    (result.held
      ? `, ${result.held} rollout${result.held === 1 ? '' : 's'} holding (${result.waiting} step${result.waiting === 1 ? '' : 's'} waiting)`
      : '');
  if (result.interrupted)
    return (
      style.yellow(`${what} interrupted: ${counts}.`) +
      ' State records every finished step; run apply again to continue.'
    );
  if (result.failed > 0) return style.red(`${what} failed: ${counts}.`);
  if (result.held > 0)
    return (
      style.yellow(`${what} paused: ${counts}.`) + ' See bp rollout status; run apply again (or with --wait) to go on.'
    );
  return style.green(`${what} complete: ${counts}.`);
}

export function jsonApplyView(rawWrite: (s: string) => void): ApplyView {
  const out = coalescingWriter(rawWrite);
  const write = (o: object) => out.write(JSON.stringify(o) + '\n');
  return {
    event(e) {
      if (e.type === 'step_progress') return; // live progress is for terminals: one report per health check
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
