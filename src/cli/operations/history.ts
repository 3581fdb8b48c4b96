/** `bp history ENV`: what was done to an environment, by whom, from which commit, newest last. */
import { UsageError } from '../../model/errors.js';
import { OUTPUT_FORMATS } from '../../model/output.js';
import type { HistoryEntry } from '../../model/state.js';
import { describeChanges } from '../../plan/review.js';
import { engineContext, type CommonFlags } from '../context.js';

export async function historyCommand(env: string, flags: CommonFlags & { json: boolean }): Promise<number> {
  const ctx = await engineContext(flags, () => undefined);
  try {
    const state = await ctx.backend.load(env);
    if (!state) throw new UsageError(`environment "${env}" has no recorded state in ${ctx.backend.description}`);
    const history = state.history ?? [];
    if (flags.json)
      process.stdout.write(
        JSON.stringify({ format_version: OUTPUT_FORMATS.history, environment_id: env, history }, null, 2) + '\n',
      );
    else
      process.stdout.write(history.length === 0 ? `environment "${env}" has no history yet\n` : renderHistory(history));
    return 0;
  } finally {
    await ctx.backend.close();
  }
}

export function renderHistory(history: readonly HistoryEntry[]): string {
  const lines: string[] = [];
  for (const h of history) {
    const who = `${h.actor.user}@${h.actor.host}`;
    const ci = Object.entries(h.actor.ci)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const s = h.steps;
    const steps =
      s.total === 0 ? 'no steps' : `${s.succeeded}/${s.total} steps ok${s.failed ? `, ${s.failed} failed` : ''}`;
    lines.push(
      `#${h.id}  ${h.at}  ${h.operation.padEnd(8)} ${h.outcome.padEnd(11)} ${steps}  by ${who}${ci ? `  (${ci})` : ''}`,
    );
    for (const [dep, split] of Object.entries(h.splits)) {
      const r = h.rollouts[dep];
      const rollout = r ? `  rollout of ${r.canary}: ${r.status.replace('_', ' ')} at step ${r.step}/${r.steps}` : '';
      lines.push(
        `      ${dep}: ${split.map((e) => `${e.revision_id} ${e.weight_bps / 100}%`).join(', ') || 'no traffic'}${rollout}`,
      );
    }
    if (h.plan_digest) lines.push(`      plan ${h.plan_digest.slice(0, 12)}`);
    if (h.note) lines.push(`      note: ${h.note}`);
    for (const [step, changes] of Object.entries(h.updated ?? {}))
      lines.push(`      ${step}: ${describeChanges(changes)}`);
  }
  return lines.join('\n') + '\n';
}
