import { Args, Flags } from '@oclif/core';
import { BpCommand } from '../../base.js';

export default class RevisionRetire extends BpCommand {
  static override summary =
    'Retire a revision in an env file: no traffic (its share goes to the others) and state: inactive.';
  static override examples = ['<%= config.bin %> revision retire env.yaml web web-v1'];
  static override args = {
    file: Args.string({ required: true, description: 'env file (YAML) to edit' }),
    deployment: Args.string({ required: true, description: 'deployment id' }),
    revision: Args.string({ required: true, description: 'revision id' }),
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
    const { args, flags } = await this.parse(RevisionRetire);
    const { revisionRetireCommand } = await import('../../operations/edit.js');
    process.exitCode = await revisionRetireCommand(args.file, args.deployment, args.revision, flags);
  }
}
