/**
 * Progress on a terminal: ONE live region at the bottom, redrawn in place (log-update), with a
 * line per running step saying what it waits for, how long it has run and how often it was
 * retried. Everything that happened for good (results, failures, rollout moves, warnings) is
 * written above the region as plain lines, so the final screen holds every step's result and
 * the scrollback reads like the plain view. Each frame is one write(2).
 */
import { createLogUpdate } from 'log-update';
import type { ApplyEvent } from '../../apply/events.js';
import { escapeControls } from '../../model/escape.js';
import type { PlanStep } from '../../model/plan.js';
import { doing, eventLine, finishLine, humanApplyView, jsonApplyView, type ApplyView } from './apply-view.js';
import { stepTarget } from './plan-view.js';
import { formatDuration, type Style } from './style.js';

/** The terminal the region is drawn on: what log-update needs of a TTY stream. */
export interface LiveTerminal {
  write(s: string): unknown;
  columns?: number;
  rows?: number;
}

interface Running {
  step: PlanStep;
  at: number;
  retries: number;
  lastError?: string;
  progress?: { waiting_for: string; status?: string; last?: string };
}

export interface LiveOptions {
  /** How often the region is redrawn (elapsed times move); BP_LIVE_INTERVAL_MS overrides. */
  redrawMs?: number;
  now?: () => number;
}

export function liveApplyView(term: LiveTerminal, style: Style, o: LiveOptions = {}): ApplyView {
  const now = o.now ?? Date.now;
  const redrawMs = o.redrawMs ?? Number(process.env.BP_LIVE_INTERVAL_MS ?? 200);
  // log-update writes to this buffer; a frame (permanent lines + region) leaves in one write.
  let frame = '';
  const buffer = {
    write: (s: string) => {
      frame += s;
      return true;
    },
    get columns() {
      return term.columns ?? 80;
    },
    get rows() {
      return term.rows ?? 24;
    },
  };
  const region = createLogUpdate(buffer as unknown as NodeJS.WritableStream, { showCursor: true });
  const running = new Map<string, Running>();
  let pendingLines = '';
  let scheduled = false;
  let closed = false;

  const render = (): string => {
    if (running.size === 0) return '';
    const width = Math.max(20, (term.columns ?? 80) - 1);
    const lines = [style.dim(`Running ${running.size} step${running.size === 1 ? '' : 's'}:`)];
    for (const r of running.values()) {
      // Most telling first, so a narrow terminal cuts the least useful part: how far, then what.
      let line = `  ${stepTarget(r.step)}: ${doing(r.step)} ${formatDuration(Math.max(0, now() - r.at))}`;
      if (r.retries > 0) line += ` · ${r.retries} ${r.retries === 1 ? 'retry' : 'retries'} (${r.lastError ?? ''})`;
      const how = [r.progress?.status, r.progress?.last].filter(Boolean).join(', ');
      if (how) line += ` · ${how}`;
      if (r.progress) line += ` · waiting for ${r.progress.waiting_for}`;
      lines.push(truncate(escapeControls(line, true), width));
    }
    return lines.join('\n');
  };

  const draw = () => {
    scheduled = false;
    if (closed && pendingLines === '') return;
    if (pendingLines !== '') {
      region.clear();
      frame += pendingLines;
      pendingLines = '';
    }
    const text = closed ? '' : render();
    if (text === '') region.clear();
    else region(text);
    if (frame !== '') {
      const out = frame;
      frame = '';
      term.write(out);
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(draw);
  };
  const timer = setInterval(() => {
    if (running.size > 0) draw();
  }, redrawMs);
  timer.unref();

  const permanent = (line: string) => {
    pendingLines += line + '\n';
    schedule();
  };

  const stop = () => {
    clearInterval(timer);
    draw();
    closed = true;
    region.clear();
    region.done();
    if (frame !== '') {
      term.write(frame);
      frame = '';
    }
  };

  return {
    event(e: ApplyEvent) {
      switch (e.type) {
        case 'step_started':
          running.set(e.step.id, { step: e.step, at: e.at, retries: 0 });
          schedule();
          return;
        case 'step_progress': {
          const r = running.get(e.step.id);
          if (r) r.progress = { waiting_for: e.waiting_for, status: e.status, last: e.last };
          return; // drawn on the next tick: progress arrives once per health check
        }
        case 'step_retrying': {
          const r = running.get(e.step.id);
          if (r) {
            r.retries = e.attempt;
            r.lastError = e.error.split('\n')[0];
          }
          break;
        }
        case 'step_succeeded':
        case 'step_failed':
        case 'step_held':
          running.delete(e.step.id);
          break;
        default:
          break;
      }
      const line = eventLine(e, style);
      if (line !== null) permanent(line);
    },
    finish(result, extra) {
      running.clear();
      const line = finishLine(result, extra, style);
      if (line) pendingLines += line + '\n';
      stop();
    },
    flush() {
      draw();
    },
    close() {
      running.clear();
      stop();
    },
  };
}

function truncate(line: string, width: number): string {
  // Region lines never wrap: a wrapped line would throw off how many lines the next frame erases.
  const visible = line.replace(/\u001b\[[0-9;]*m/g, '');
  if (visible.length <= width) return line;
  return visible.slice(0, width - 1) + '…';
}

/**
 * The view for a command's output: JSON lines with --json, the live region on a terminal
 * (not TERM=dumb), plain lines otherwise (pipes, CI logs, files).
 */
export function applyViewFor(
  json: boolean,
  stream: NodeJS.WriteStream,
  style: Style,
  env: NodeJS.ProcessEnv = process.env,
): ApplyView {
  const write = (s: string) => stream.write(s);
  if (json) return jsonApplyView(write);
  if (stream.isTTY && env.TERM !== 'dumb') {
    return liveApplyView(
      {
        write,
        get columns() {
          return stream.columns;
        },
        get rows() {
          return stream.rows;
        },
      },
      style,
    );
  }
  return humanApplyView(write, style);
}
