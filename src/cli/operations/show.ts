/** `bp show PLANFILE`: what a saved plan (`bp plan --out`) will do, without touching state. */
import { UsageError } from '../../model/errors.js';
import { renderPlan } from '../views/plan-view.js';
import { styleFor } from '../views/style.js';
import { readPlanFile } from './plan-file.js';

export async function showCommand(file: string, flags: { json: boolean }): Promise<number> {
  const saved = await readPlanFile(file);
  if (!saved) {
    throw new UsageError(
      `${file} is not a saved plan (bp plan --out FILE writes one); for an env file run bp plan ${file}`,
    );
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify(saved.plan, null, 2) + '\n');
    return 0;
  }
  const style = styleFor(process.stdout);
  process.stdout.write(
    `Saved plan for environment "${saved.plan.environment_id}", made ${saved.created_at} from ${saved.source_file} ` +
      `(state serial ${saved.plan.prior.serial}).\n\n` +
      renderPlan(saved.plan, style) +
      `\n\nApply exactly this plan with: bp apply ${file}\n`,
  );
  return 0;
}
