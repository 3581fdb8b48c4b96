import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadDesired } from '../../apply/desired.js';
import { planEnvironment } from '../../apply/engine.js';
import { UsageError } from '../../model/errors.js';
import type { PlanFile } from '../../model/plan.js';
import { writeFileDurable } from '../../state/durable.js';
import { loadOptionsFrom, type SourceFlags } from '../inputs.js';
import { engineContext, type CommonFlags } from '../context.js';
import { humanApplyView } from '../views/apply-view.js';
import { sniffPlanFile } from './plan-file.js';
import { withDigest } from '../../plan/saved-plan.js';
import { renderPlan } from '../views/plan-view.js';
import { renderPlanMarkdown } from '../views/plan-markdown.js';
import { styleFor } from '../views/style.js';
import { planExitCode } from '../../plan/exit-codes.js';

export interface PlanFlags extends CommonFlags, SourceFlags {
  out?: string;
  json: boolean;
  format?: string;
  'detailed-exitcode': boolean;
  target?: string[];
  refresh: string;
  destroy: boolean;
}

export async function planCommand(file: string, flags: PlanFlags): Promise<number> {
  if (await sniffPlanFile(file).catch(() => null)) {
    throw new UsageError(
      `${file} is a saved plan, not an env file: see what it does with bp show ${file}, run it with bp apply ${file}`,
    );
  }
  const desired = await loadDesired(file, await loadOptionsFrom(flags));
  for (const w of desired.warnings) process.stderr.write(`${w}\n`);
  const view = humanApplyView((s) => process.stderr.write(s), styleFor(process.stderr));
  const ctx = await engineContext(flags, (e) => (flags.json || flags.format === 'json' ? undefined : view.event(e)));
  try {
    const { plan } = await planEnvironment(ctx, {
      desired: desired.env,
      baseDir: desired.baseDir,
      source: desired.parsed,
      targets: flags.target,
      destroy: flags.destroy,
      refresh: flags.refresh !== 'false',
      locate: desired.locate,
    });
    if (flags.out) {
      const planFile: PlanFile = withDigest({
        format_version: 'bp.planfile/v1',
        created_at: new Date().toISOString(),
        source_file: resolve(file),
        desired: desired.env,
        plan,
      });
      const out = resolve(flags.out);
      await writeFileDurable(out, JSON.stringify(planFile) + '\n', { what: 'plan file' });
      chmodSync(out, 0o600);
    }
    const format = flags.json ? 'json' : (flags.format ?? 'text');
    if (format === 'json') process.stdout.write(JSON.stringify(plan, null, 2) + '\n');
    else if (format === 'markdown') {
      process.stdout.write(renderPlanMarkdown(plan));
      if (flags.out)
        process.stdout.write(`\nSaved as \`${flags.out}\`: \`bp apply ${flags.out}\` applies exactly this plan.\n`);
    } else {
      process.stdout.write(renderPlan(plan, styleFor(process.stdout)) + '\n');
      if (flags.out)
        process.stdout.write(`\nSaved the plan to ${flags.out}. Apply exactly this plan with: bp apply ${flags.out}\n`);
    }
    if (flags['detailed-exitcode']) return planExitCode(plan);
    return 0;
  } finally {
    view.close();
    await ctx.backend.close();
  }
}
