import { BpCommand } from '../base.js';
import { envIdArg, json } from '../flags.js';

export default class History extends BpCommand {
  static override summary =
    'Show what was applied to an environment: when, by whom (and which CI run), plan digest, steps, outcome.';
  static override examples = ['<%= config.bin %> history demo', '<%= config.bin %> history demo --json'];
  static override args = { env: envIdArg };
  static override flags = { json };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(History);
    const { historyCommand } = await import('../operations/history.js');
    process.exitCode = await historyCommand(args.env, flags);
  }
}
