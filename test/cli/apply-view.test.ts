import { describe, expect, it } from 'vitest';
import type { PlanStep } from '../../src/model/plan.js';
import { coalescingWriter, humanApplyView, jsonApplyView } from '../../src/cli/views/apply-view.js';
import { styleFor } from '../../src/cli/views/style.js';

const step = (id: string): PlanStep =>
  ({
    id: `stage:web/${id}`,
    verb: 'stage',
    deployment_id: 'web',
    revision_id: id,
    depends_on: [],
    reason: 'new revision',
  }) as PlanStep;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('apply view output', () => {
  it('joins the lines of one event-loop turn into one write, and sends them within that turn', async () => {
    const writes: string[] = [];
    const out = coalescingWriter((s) => writes.push(s));
    out.write('a\n');
    out.write('b\n');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['a\nb\n']);
    out.write('c\n');
    out.flush();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
    await nextTurn();
    expect(writes).toHaveLength(2);
  });

  it('human view: every progress line arrives, in order, and finish writes everything before returning', async () => {
    let text = '';
    const view = humanApplyView((s) => (text += s), styleFor(process.stdout), 60_000);
    view.event({ type: 'step_started', step: step('v1'), at: Date.now() });
    view.event({ type: 'step_succeeded', step: step('v1'), durationMs: 12 });
    await nextTurn();
    expect(text).toBe('web/v1: staging...\nweb/v1: staged after 12ms\n');
    view.event({ type: 'step_started', step: step('v2'), at: Date.now() });
    view.close();
    view.finish({
      outcomes: [],
      succeeded: 2,
      failed: 0,
      skipped: 0,
      notStarted: 0,
      interrupted: false,
      held: 0,
      waiting: 0,
    } as never);
    expect(text).toMatch(/web\/v2: staging\.\.\.\nApply complete: 2 succeeded, 0 failed, 0 skipped\.\n$/);
  });

  it('JSON view: one object per line, the summary flushed by finish', () => {
    let text = '';
    const view = jsonApplyView((s) => (text += s));
    view.event({ type: 'step_started', step: step('v1'), at: 1 });
    view.finish(null);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['step.started', 'apply.finished']);
    expect(lines.every((l) => l.format_version === 'bp.apply-event/v1')).toBe(true);
    expect(lines[0]).toMatchObject({ step_id: 'stage:web/v1', started_at: '1970-01-01T00:00:00.001Z' });
  });
});
