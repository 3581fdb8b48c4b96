import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../src/apply/events.js';
import type { PlanStep } from '../../src/model/plan.js';
import { applyViewFor, liveApplyView } from '../../src/cli/views/live-apply-view.js';
import { styleFor } from '../../src/cli/views/style.js';
import { screenOf } from '../helpers/screen.js';

const step = (verb: 'stage' | 'warm', id: string): PlanStep =>
  ({ id: `${verb}:web/${id}`, verb, deployment_id: 'web', revision_id: id, depends_on: [], reason: 'new' }) as PlanStep;
const plain = styleFor({ isTTY: false } as NodeJS.WriteStream);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const result = (o: Partial<ApplyResult>): ApplyResult => ({
  outcomes: [],
  succeeded: 0,
  failed: 0,
  skipped: 0,
  notStarted: 0,
  held: 0,
  waiting: 0,
  interrupted: false,
  ...o,
});

function terminal() {
  const writes: string[] = [];
  return { writes, columns: 100, rows: 30, write: (s: string) => writes.push(s), raw: () => writes.join('') };
}

describe('live apply view (terminal)', () => {
  it('redraws one region with each running step, what it waits for, elapsed time and retries', async () => {
    const term = terminal();
    let now = 1_000;
    const view = liveApplyView(term, plain, { now: () => now, redrawMs: 60_000 });
    view.event({ type: 'step_started', step: step('warm', 'v1'), at: 1_000 });
    view.event({ type: 'step_started', step: step('warm', 'v2'), at: 1_000 });
    now = 5_900;
    view.event({
      type: 'step_progress',
      step: step('warm', 'v1'),
      waiting_for: 'replicas of "v1" to answer /healthz',
      status: '1/2 replicas healthy',
      last: 'last probe ECONNREFUSED',
    });
    view.event({ type: 'step_retrying', step: step('warm', 'v2'), attempt: 1, error: 'HTTP 503\nmore', delayMs: 500 });
    await nextTurn();
    expect(screenOf(term.raw())).toEqual(
      [
        'web/v2: attempt 1 failed (HTTP 503',
        'more); retrying in 500ms',
        'Running 2 steps:',
        '  web/v1: warming 4.9s · 1/2 replicas healthy, last probe ECONNREFUSED · waiting for replicas of "v1" to answer /healthz',
        '  web/v2: warming 4.9s · 1 retry (HTTP 503)',
      ].map((l) => (l.length > 99 ? l.slice(0, 98) + '…' : l)),
    );
    const framesBefore = term.writes.length;

    now = 7_000;
    view.event({ type: 'step_succeeded', step: step('warm', 'v1'), durationMs: 6_000 });
    await nextTurn();
    // The region was erased and drawn again below the new result line, not appended to.
    expect(term.writes.length).toBe(framesBefore + 1);
    expect(term.writes.at(-1)).toContain('\u001b[2K');
    expect(screenOf(term.raw()).slice(2)).toEqual([
      'web/v1: ready after 6.0s',
      'Running 1 step:',
      '  web/v2: warming 6.0s · 1 retry (HTTP 503)',
    ]);

    view.event({ type: 'step_failed', step: step('warm', 'v2'), error: 'boom', code: 'Provider', durationMs: 6_000 });
    view.close();
    view.finish(result({ succeeded: 1, failed: 1 }));
    // The final screen: every step's result and the summary; no region left over.
    expect(screenOf(term.raw()).slice(2)).toEqual([
      'web/v1: ready after 6.0s',
      'web/v2: warm failed after 6.0s: boom',
      'Apply failed: 1 succeeded, 1 failed, 0 skipped.',
    ]);
  });

  it('writes results that arrive after close (webhook warnings, the summary) before finish returns', () => {
    const term = terminal();
    const view = liveApplyView(term, plain, { redrawMs: 60_000 });
    view.close();
    view.event({ type: 'warning', message: 'webhook down' });
    view.finish(result({ succeeded: 3 }));
    expect(screenOf(term.raw())).toEqual([
      'Warning: webhook down',
      'Apply complete: 3 succeeded, 0 failed, 0 skipped.',
    ]);
  });

  it('applyViewFor: live on a terminal, plain lines on a pipe or TERM=dumb, JSON lines with --json', async () => {
    const sink = (isTTY: boolean) => {
      const w: string[] = [];
      return {
        w,
        s: { isTTY, columns: 80, rows: 24, write: (x: string) => w.push(x) } as unknown as NodeJS.WriteStream,
      };
    };
    const started = { type: 'step_started', step: step('stage', 'v1'), at: Date.now() } as const;
    const tty = sink(true);
    applyViewFor(false, tty.s, plain, { TERM: 'xterm' }).event(started);
    const pipe = sink(false);
    applyViewFor(false, pipe.s, plain, {}).event(started);
    const dumb = sink(true);
    applyViewFor(false, dumb.s, plain, { TERM: 'dumb' }).event(started);
    const json = sink(true);
    const jv = applyViewFor(true, json.s, plain, { TERM: 'xterm' });
    jv.event({ type: 'step_progress', step: step('stage', 'v1'), waiting_for: 'x' });
    jv.event(started);
    await nextTurn();
    expect(tty.w.join('')).toContain('Running 1 step:\n  web/v1: staging');
    expect(pipe.w.join('')).toBe('web/v1: staging...\n');
    expect(dumb.w.join('')).toBe('web/v1: staging...\n');
    const lines = json.w
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    expect(lines.map((l) => l.event)).toEqual(['step.started']);
  });
});
