import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { deploymentArg, editedFileArg, editFlags, requiredArg } from '../../flags.js';

export default class RevisionRetire extends BpCommand {
  static override summary =
    'Retire a revision in an env file: no traffic (its share goes to the others) and state: inactive.';
  static override examples = ['<%= config.bin %> revision retire env.yaml web web-v1'];
  static override args = {
    file: editedFileArg,
    deployment: deploymentArg,
    revision: requiredArg('revision id'),
  };
  static override flags = {
    ...editFlags,
  };

  async run(): Promise<void> {
    await this.runOperation(RevisionRetire, operations.edit, (m, { args, flags }) =>
      m.revisionRetireCommand(args.file, args.deployment, args.revision, flags),
    );
  }
}
