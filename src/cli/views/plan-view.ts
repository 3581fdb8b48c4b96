/** Human rendering of a plan, in the shape Terraform users read without thinking. */
import type { SplitEntry } from '../../model/environment.js';
import { ENVIRONMENT_SCOPE, type Plan, type PlanStep, type Verb } from '../../model/plan.js';
import { MASK, show } from '../../plan/review.js';
import type { Style } from './style.js';

const SYMBOL: Record<Verb, string> = {
  stage: '+',
  warm: '^',
  update: '~',
  apply_traffic_split: '~',
  drain: '<',
  archive: '-',
};
const LABEL: Record<Verb, string> = {
  stage: 'stage',
  warm: 'warm',
  update: 'update',
  apply_traffic_split: 'split',
  drain: 'drain',
  archive: 'archive',
};

export function colorFor(verb: Verb, style: Style): (s: string) => string {
  if (verb === 'stage' || verb === 'warm') return style.green;
  if (verb === 'apply_traffic_split') return style.yellow;
  return style.red;
}

export function describeSplit(before: SplitEntry[], after: SplitEntry[]): string {
  const ids: string[] = [];
  for (const e of [...before, ...after]) if (!ids.includes(e.revision_id)) ids.push(e.revision_id);
  const w = (list: SplitEntry[], id: string) => list.find((e) => e.revision_id === id)?.weight_bps ?? 0;
  return ids
    .map((id) => {
      const b = w(before, id);
      const a = w(after, id);
      return b === a ? `${id} ${pct(a)}` : `${id} ${pct(b)} -> ${pct(a)}`;
    })
    .join(', ');
}

function pct(bps: number): string {
  return `${(bps / 100).toFixed(bps % 100 === 0 ? 0 : 2)}%`;
}

export function stepTarget(step: PlanStep): string {
  if (step.deployment_id === ENVIRONMENT_SCOPE) return 'environment';
  return step.revision_id ? `${step.deployment_id}/${step.revision_id}` : step.deployment_id;
}

export function renderStepLine(step: PlanStep, style: Style): string {
  const paint = colorFor(step.verb, style);
  const what =
    step.verb === 'apply_traffic_split' && step.split ? describeSplit(step.split.before, step.split.after) : '';
  const reason = step.reason && step.verb !== 'update' ? style.dim(` (${step.reason})`) : '';
  return `  ${paint(SYMBOL[step.verb])} ${paint(LABEL[step.verb].padEnd(7))} ${stepTarget(step)}${what ? `  ${what}` : ''}${reason}`;
}

/** The indented lines under a step a reviewer reads: what it deploys, what changes (old -> new). */
export function renderStepDetails(step: PlanStep, style: Style): string[] {
  const pad = '            ';
  const out: string[] = [];
  for (const c of step.changes ?? [])
    out.push(`${pad}${c.field}: ${style.red(show(c.old))} -> ${style.green(show(c.new))}`);
  if (step.note) out.push(`${pad}${style.yellow('note')}: ${step.note}`);
  const rounded = step.split?.enforced;
  if (step.split && rounded) {
    const bps = (list: SplitEntry[]) => list.map((e) => e.weight_bps).join('/');
    out.push(
      `${pad}${style.yellow('rounded')}: ${step.split.after.map((e) => e.revision_id).join('/')} ` +
        `${bps(step.split.after)} will be enforced as ${bps(rounded)} ` +
        `(the provider weighs in steps of ${step.split.granularity_bps ?? '?'} bps)`,
    );
  }
  const d = step.deploys;
  if (d) {
    if (d.image !== undefined) out.push(`${pad}image: ${d.image}`);
    if (d.command !== undefined) out.push(`${pad}command: ${d.command.map(shellWord).join(' ')}`);
    if (d.binary !== undefined) out.push(`${pad}binary: ${d.binary}`);
    const env = Object.entries(d.env).map(([k, v]) => `${k}=${v === MASK ? style.dim(MASK) : JSON.stringify(v)}`);
    if (env.length > 0) out.push(`${pad}env: ${env.join(', ')}`);
    const r = d.resources;
    out.push(
      `${pad}resources: cpu ${r.cpu}, memory ${r.memory_mb} MB, replicas ${r.replicas}` +
        `${r.max_replicas !== undefined ? ` (max ${r.max_replicas})` : ''}, gpu ${r.gpu}`,
    );
    out.push(
      `${pad}health: GET ${d.health.http_path} within ${d.health.timeout_seconds}s; drain ${d.drain_seconds}s; ` +
        `ttl ${d.ttl ?? 'none'}`,
    );
  }
  return out;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderPlan(plan: Plan, style: Style): string {
  const out: string[] = [];
  if (plan.drift.length > 0) {
    out.push(style.bold('Changes made outside bp (drift):'));
    for (const d of plan.drift)
      out.push(
        `  ${style.yellow('!')} ${d.revision_id ? `${d.deployment_id}/${d.revision_id}` : d.deployment_id}: ${d.message}`,
      );
    out.push('');
  }
  for (const x of plan.expired) {
    out.push(
      x.carries_traffic
        ? `${style.yellow('Warning:')} revision ${x.deployment_id}/${x.revision_id} expired at ${x.expired_at} but still carries traffic; it is kept until its weight is 0`
        : `Revision ${x.deployment_id}/${x.revision_id} expired at ${x.expired_at}.`,
    );
  }
  if (plan.expired.length > 0) out.push('');
  const rollouts = plan.rollouts ?? [];
  for (const r of rollouts) {
    const head = `Rollout ${r.deployment_id}/${r.canary}`;
    out.push(
      r.diverged
        ? `${style.yellow('Warning:')} ${head} ${r.status.replace('_', ' ')}: ${r.message}`
        : `${head}: ${r.message}`,
    );
  }
  if (rollouts.length > 0) out.push('');
  for (const u of plan.secret_updates ?? []) {
    out.push(
      `${style.yellow('Note:')} revision ${u.deployment_id}/${u.revision_id} runs version ${u.recorded_version} of ${u.reference}; ` +
        `a newer version exists (${u.current_version}): declare a new revision to roll it out`,
    );
  }
  if ((plan.secret_updates ?? []).length > 0) out.push('');
  if (!plan.changes) {
    const diverged = rollouts.some((r) => r.diverged);
    out.push(
      diverged
        ? style.yellow('No changes.') +
            ` Environment "${plan.environment_id}" stays on the split its last rollout returned to (see above).`
        : style.green('No changes.') + ` Environment "${plan.environment_id}" matches the configuration.`,
    );
    return out.join('\n');
  }
  out.push(
    `bp will perform the following actions on environment "${plan.environment_id}"${plan.destroy ? ' (destroy)' : ''}:`,
  );
  let current: string | null = null;
  for (const step of plan.steps) {
    if (step.deployment_id !== current) {
      current = step.deployment_id;
      out.push('', `  ${style.bold(current === ENVIRONMENT_SCOPE ? '# environment' : `# deployment ${current}`)}`);
    }
    out.push(renderStepLine(step, style), ...renderStepDetails(step, style));
  }
  const s = plan.summary;
  out.push(
    '',
    style.bold('Plan:') +
      ` ${s.stage} to stage, ${s.warm} to warm, ${s.update ? `${s.update} to update, ` : ''}${s.apply_traffic_split} split${s.apply_traffic_split === 1 ? '' : 's'} to apply, ${s.drain} to drain, ${s.archive} to archive.`,
  );
  return out.join('\n');
}

/** Graphviz DOT of the plan (`bp graph`). */
export function renderDot(plan: Plan): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    `digraph ${q(`bp:${plan.environment_id}`)} {`,
    '  rankdir=LR;',
    '  node [shape=box, fontname="monospace"];',
  ];
  const byDeployment = new Map<string, PlanStep[]>();
  for (const s of plan.steps) byDeployment.set(s.deployment_id, [...(byDeployment.get(s.deployment_id) ?? []), s]);
  for (const [dep, steps] of byDeployment) {
    const title = dep === ENVIRONMENT_SCOPE ? 'environment' : dep;
    lines.push(
      `  subgraph ${q(`cluster_${dep === ENVIRONMENT_SCOPE ? '@environment' : dep}`)} {`,
      `    label=${q(title)};`,
    );
    for (const s of steps) {
      const label =
        s.verb === 'apply_traffic_split' && s.split
          ? `split ${dep}\\n${describeSplit(s.split.before, s.split.after)}`
          : `${LABEL[s.verb]} ${s.revision_id ?? stepTarget(s)}`;
      lines.push(`    ${q(s.id)} [label="${label.replace(/"/g, '\\"')}"];`);
    }
    lines.push('  }');
  }
  for (const s of plan.steps) for (const d of s.depends_on) lines.push(`  ${q(d)} -> ${q(s.id)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
