/**
 * `bp plan --format markdown`: the plan as a pull-request comment. GitHub/GitLab-flavoured
 * Markdown: a summary line, a table of steps, what is drifted, rolling out or diverged, and the
 * details of what each stage step deploys in a collapsed block (secret values are already masked
 * by the planner, as in the text view).
 */
import type { Plan } from '../../model/plan.js';
import { describeSplit, renderStepDetails, stepTarget } from './plan-view.js';
import type { Style } from './style.js';

const PLAIN: Style = {
  color: false,
  green: (s) => s,
  yellow: (s) => s,
  red: (s) => s,
  bold: (s) => s,
  dim: (s) => s,
};

const VERB_LABEL: Record<string, string> = {
  stage: '➕ stage',
  warm: '🔥 warm',
  update: '✏️ update',
  apply_traffic_split: '🔀 split',
  drain: '⏬ drain',
  archive: '🗑️ archive',
};

/** Text safe inside a table cell: no pipes breaking columns, no newlines, no HTML. */
export function cell(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, ' ');
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = [];
  const s = plan.summary;
  out.push(`### bp plan: \`${plan.environment_id}\`${plan.destroy ? ' (destroy)' : ''}`, '');
  if (plan.drift.length > 0) {
    out.push('**Changes made outside bp (drift):**', '');
    for (const d of plan.drift)
      out.push(
        `- ⚠️ ${code(d.revision_id ? `${d.deployment_id}/${d.revision_id}` : d.deployment_id)}: ${cell(d.message)}`,
      );
    out.push('');
  }
  for (const x of plan.expired)
    out.push(
      `- ⏳ revision ${code(`${x.deployment_id}/${x.revision_id}`)} expired at ${x.expired_at}` +
        (x.carries_traffic ? ' but still carries traffic; it is kept until its weight is 0' : ''),
    );
  if (plan.expired.length > 0) out.push('');
  for (const r of plan.rollouts ?? []) {
    const head = `rollout ${code(`${r.deployment_id}/${r.canary}`)}`;
    if (r.diverged)
      out.push(`> [!WARNING]`, `> **Diverged**: ${head} ${r.status.replace('_', ' ')}: ${cell(r.message)}`);
    else if (r.waiting) out.push(`> [!NOTE]`, `> **Waiting**: ${head}: ${cell(r.message)}`);
    else out.push(`- ${head}: ${cell(r.message)}`);
    out.push('');
  }
  for (const u of plan.secret_updates ?? [])
    out.push(
      `- 🔑 revision ${code(`${u.deployment_id}/${u.revision_id}`)} runs version ${code(u.recorded_version)} of ` +
        `${code(u.reference)}; a newer version exists (${code(u.current_version)}): declare a new revision to roll it out`,
    );
  if ((plan.secret_updates ?? []).length > 0) out.push('');
  if (!plan.changes) {
    out.push(
      '**No changes.** The environment matches the configuration' + (hasDiverged(plan) ? ' (except as above).' : '.'),
    );
    return out.join('\n') + '\n';
  }
  out.push(
    `**Plan:** ${s.stage} to stage, ${s.warm} to warm, ${s.update ? `${s.update} to update, ` : ''}` +
      `${s.apply_traffic_split} split${s.apply_traffic_split === 1 ? '' : 's'} to apply, ${s.drain} to drain, ${s.archive} to archive.`,
    '',
    '| | step | target | change | why |',
    '|---|---|---|---|---|',
  );
  plan.steps.forEach((step, i) => {
    const change =
      step.verb === 'apply_traffic_split' && step.split
        ? describeSplit(step.split.before, step.split.after)
        : step.from && step.to
          ? `${step.from} → ${step.to}`
          : '';
    out.push(
      `| ${i + 1} | ${VERB_LABEL[step.verb] ?? step.verb} | ${code(stepTarget(step))} | ${cell(change)} | ${cell(step.reason)} |`,
    );
  });
  const details = plan.steps
    .map((step) => ({ step, lines: renderStepDetails(step, PLAIN) }))
    .filter((d) => d.lines.length > 0);
  if (details.length > 0) {
    out.push('', '<details><summary>What the steps deploy</summary>', '', '```');
    for (const d of details) out.push(`${d.step.verb} ${stepTarget(d.step)}`, ...d.lines.map((l) => l.trimEnd()));
    out.push('```', '', '</details>');
  }
  return out.join('\n') + '\n';
}

function hasDiverged(plan: Plan): boolean {
  return (plan.rollouts ?? []).some((r) => r.diverged);
}
