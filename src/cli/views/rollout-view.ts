/**
 * `bp rollout status`: where each deployment's rollout stands. Time-dependent values (a pause's
 * time left) are computed from `now` when rendered, never taken from the recorded message.
 */
import type { RecordedState, RolloutProgress } from '../../model/state.js';
import { describeStep, formatBps, formatSplit } from '../../plan/rollout.js';
import type { Style } from './style.js';

export interface RolloutRow {
  deployment_id: string;
  canary: string;
  status: RolloutProgress['status'];
  /** 1-based, as on screen: the step in progress, or the last one once the rollout ended. */
  step: number;
  steps: number;
  current_step: string | null;
  split: { revision_id: string; weight_bps: number }[];
  stable: { revision_id: string; weight_bps: number }[];
  target: { revision_id: string; weight_bps: number }[];
  pause_until: string | null;
  /** Seconds left in a timed pause, computed when shown (null: no timed pause running). */
  pause_left_seconds: number | null;
  promoted: RolloutProgress['promoted'];
  measurements: RolloutProgress['measurements'];
  message: string;
  started_at: string;
  updated_at: string;
}

export function rolloutRows(state: RecordedState, deploymentId?: string, now: Date = new Date()): RolloutRow[] {
  const rows: RolloutRow[] = [];
  for (const id of Object.keys(state.deployments).sort()) {
    const d = state.deployments[id];
    const p = d.rollout;
    if (!p || (deploymentId !== undefined && id !== deploymentId)) continue;
    rows.push({
      deployment_id: id,
      canary: p.canary,
      status: p.status,
      step: Math.min(p.step + 1, p.steps.length),
      steps: p.steps.length,
      current_step: p.step < p.steps.length ? describeStep(p.steps[p.step]) : null,
      split: d.split,
      stable: p.stable,
      target: p.target,
      pause_until: p.pause_until,
      pause_left_seconds:
        p.status === 'paused' && p.pause_until !== null
          ? Math.max(0, Math.ceil((Date.parse(p.pause_until) - now.getTime()) / 1000))
          : null,
      promoted: p.promoted,
      measurements: p.measurements,
      message: p.message,
      started_at: p.started_at,
      updated_at: p.updated_at,
    });
  }
  return rows;
}

export function renderRolloutRows(environmentId: string, rows: RolloutRow[], style: Style): string {
  if (rows.length === 0) return `No rollouts recorded in environment "${environmentId}".`;
  const out: string[] = [];
  for (const r of rows) {
    const paint =
      r.status === 'rolled_back' || r.status === 'halted' || r.status === 'aborted'
        ? style.red
        : r.status === 'completed'
          ? style.green
          : style.yellow;
    const at = r.current_step ? `, step ${r.step} of ${r.steps}: ${r.current_step}` : '';
    out.push(`${style.bold(r.deployment_id)}: rollout of ${r.canary} ${paint(r.status.replace('_', ' '))}${at}`);
    out.push(...weightBars(r.split, r.canary, style));
    out.push(`  stable:      ${formatSplit(r.stable) || '(none)'}`);
    out.push(`  target:      ${formatSplit(r.target)}`);
    if (r.pause_left_seconds !== null) out.push(`  paused until ${r.pause_until} (${r.pause_left_seconds}s left)`);
    else if (r.status === 'paused' && r.pause_until === null) out.push(`  paused until bp rollout promote`);
    if (r.measurements.length > 0) out.push(`  analysis measurements (${r.measurements.length}):`);
    for (const m of r.measurements.slice(-5))
      out.push(
        `  ${m.verdict === 'fail' ? style.red('x') : m.verdict === 'pass' ? style.green('v') : '?'} ${m.step !== undefined ? `step ${m.step} ` : ''}${m.at} ${m.detail}`,
      );
    // A timed pause's recorded message holds the time left when it was recorded: the line above says it now.
    if (r.pause_left_seconds === null) out.push(`  ${r.message}`);
  }
  return out.join('\n');
}

const BAR_WIDTH = 30;

/** `  web-v1  ███████████████████████████░░░  90%` per revision of the split now enforced. */
export function weightBars(split: RolloutRow['split'], canary: string, style: Style): string[] {
  if (split.length === 0) return ['  traffic now: (none)'];
  const width = Math.max(...split.map((e) => e.revision_id.length));
  return split.map((e) => {
    const filled = Math.round((e.weight_bps / 10000) * BAR_WIDTH);
    const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
    const name = e.revision_id.padEnd(width);
    return `  ${name}  ${e.revision_id === canary ? style.yellow(bar) : bar}  ${formatBps(e.weight_bps).padStart(6)}`;
  });
}
