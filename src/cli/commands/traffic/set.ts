import { Args, Flags } from '@oclif/core';
import { BpCommand } from '../../base.js';

export default class TrafficSet extends BpCommand {
  static override summary =
    "Set a deployment's traffic split in an env file (REV=BPS..., summing to 10000); prints the diff.";
  static override strict = false;
  static override examples = ['<%= config.bin %> traffic set env.yaml web web-v1=9000 web-v2=1000'];
  static override args = {
    file: Args.string({ required: true, description: 'env file (YAML) to edit' }),
    deployment: Args.string({ required: true, description: 'deployment id' }),
  };
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the diff without writing the file.', default: false }),
    var: Flags.string({ summary: 'Variable NAME=VALUE used to validate the result (repeatable).', multiple: true }),
    'var-file': Flags.string({
      summary: 'YAML file of variables used to validate the result (repeatable).',
      multiple: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags, argv } = await this.parse(TrafficSet);
    const weights = (argv as string[]).slice(2);
    if (weights.length === 0) this.error('give at least one REVISION=BPS', { exit: 2 });
    const { trafficSetCommand } = await import('../../operations/edit.js');
    process.exitCode = await trafficSetCommand(args.file, args.deployment, weights, flags);
  }
}
