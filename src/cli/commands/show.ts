import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { json, requiredArg } from '../flags.js';

export default class Show extends BpCommand {
  static override summary = 'Show what a saved plan (bp plan --out FILE) will do.';
  static override description =
    'Reads the plan file only: no state, no deployers. `bp apply PLANFILE` then runs exactly these steps, ' +
    'or refuses when state changed since the plan was made.';
  static override examples = ['<%= config.bin %> show plan.json', '<%= config.bin %> show plan.json --json'];
  static override args = { planfile: requiredArg('saved plan (bp plan --out)') };
  static override flags = { json };

  async run(): Promise<void> {
    await this.runOperation(Show, operations.show, (m, { args, flags }) => m.showCommand(args.planfile, flags));
  }
}
