/** `bp rollout status`: where each deployment's rollout stands. */
import type { RecordedState, RolloutProgress } from '../../model/state.js';
import { describeStep, formatSplit } from '../../plan/rollout.js';
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
  promoted: RolloutProgress['promoted'];
  measurements: RolloutProgress['measurements'];
  message: string;
  started_at: string;
  updated_at: string;
}

export function rolloutRows(state: RecordedState, deploymentId?: string): RolloutRow[] {
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
      r.status === 'rolled_back' || r.status === 'halted'
        ? style.red
        : r.status === 'completed'
          ? style.green
          : style.yellow;
    const at = r.current_step ? `, step ${r.step}/${r.steps}: ${r.current_step}` : '';
    out.push(`${style.bold(r.deployment_id)}: rollout of ${r.canary} ${paint(r.status.replace('_', ' '))}${at}`);
    out.push(`  traffic now: ${formatSplit(r.split) || '(none)'}`);
    out.push(`  stable:      ${formatSplit(r.stable) || '(none)'}`);
    out.push(`  target:      ${formatSplit(r.target)}`);
    if (r.pause_until) out.push(`  paused until ${r.pause_until}`);
    for (const m of r.measurements.slice(-5))
      out.push(
        `  ${m.verdict === 'fail' ? style.red('x') : m.verdict === 'pass' ? style.green('v') : '?'} ${m.at} ${m.detail}`,
      );
    out.push(`  ${r.message}`);
  }
  return out.join('\n');
}
