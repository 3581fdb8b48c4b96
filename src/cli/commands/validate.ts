import { BpCommand } from '../base.js';
import { envFileArg, json, sourceFlags } from '../flags.js';

export default class Validate extends BpCommand {
  static override summary = 'Check an env file: schema, semantic rules, deployer configs.';
  static override description = 'Reports every problem as FILE:LINE:COL: message. Exit 0 when valid, 1 when not.';
  static override examples = ['<%= config.bin %> validate env.yaml', '<%= config.bin %> validate env.yaml --json'];
  static override args = { file: envFileArg };
  static override flags = { json, ...sourceFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Validate);
    const { validateCommand } = await import('../operations/validate.js');
    process.exitCode = await validateCommand(args.file, flags);
  }
}
