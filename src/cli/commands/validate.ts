import { Flags } from '@oclif/core';
import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { envFileArg, json, sourceFlags } from '../flags.js';

export default class Validate extends BpCommand {
  static override summary = 'Check an env file: schema, semantic rules, deployer configs.';
  static override description = 'Reports every problem as FILE:LINE:COL: message. Exit 0 when valid, 1 when not.';
  static override examples = [
    '<%= config.bin %> validate env.yaml',
    '<%= config.bin %> validate env.yaml --json',
    '<%= config.bin %> validate env.yaml --no-plugins',
  ];
  static override args = { file: envFileArg };
  static override flags = {
    json,
    ...sourceFlags,
    plugins: Flags.boolean({
      summary:
        'Import deployer plugins to check their configs; --no-plugins never imports plugin code (untrusted pull requests).',
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<void> {
    await this.runOperation(Validate, operations.validate, (m, { args, flags }) => m.validateCommand(args.file, flags));
  }
}
