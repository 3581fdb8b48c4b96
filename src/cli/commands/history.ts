import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { envIdArg, json } from '../flags.js';

export default class History extends BpCommand {
  static override summary =
    'Show what was applied to an environment: when, by whom (and which CI run), plan digest, steps, outcome.';
  static override examples = ['<%= config.bin %> history demo', '<%= config.bin %> history demo --json'];
  static override args = { env: envIdArg };
  static override flags = { json };

  async run(): Promise<void> {
    await this.runOperation(History, operations.history, (m, { args, flags }) => m.historyCommand(args.env, flags));
  }
}
