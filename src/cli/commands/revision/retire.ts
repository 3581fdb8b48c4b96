import { Args } from '@oclif/core';
import { BpCommand } from '../../base.js';
import { deploymentArg, editedFileArg, editFlags } from '../../flags.js';

export default class RevisionRetire extends BpCommand {
  static override summary =
    'Retire a revision in an env file: no traffic (its share goes to the others) and state: inactive.';
  static override examples = ['<%= config.bin %> revision retire env.yaml web web-v1'];
  static override args = {
    file: editedFileArg,
    deployment: deploymentArg,
    revision: Args.string({ required: true, description: 'revision id' }),
  };
  static override flags = {
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RevisionRetire);
    const { revisionRetireCommand } = await import('../../operations/edit.js');
    process.exitCode = await revisionRetireCommand(args.file, args.deployment, args.revision, flags);
  }
}
