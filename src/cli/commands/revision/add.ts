import { Flags } from '@oclif/core';
import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { deploymentArg, editedFileArg, editFlags, requiredArg } from '../../flags.js';

export default class RevisionAdd extends BpCommand {
  static override summary =
    'Add a revision to a deployment in an env file, keeping its comments and layout; prints the diff.';
  static override description =
    "The new revision copies --from (default: the deployment's last revision), minus its state and ttl, with --image, " +
    '--command and --env applied. With --weight it gets that share of traffic and the others keep their proportions of the ' +
    'rest. The result is validated before it is written (atomically); an invalid edit leaves the file untouched.';
  static override examples = [
    '<%= config.bin %> revision add env.yaml web web-$GIT_SHA --image ghcr.io/acme/web:$GIT_SHA',
    '<%= config.bin %> revision add env.yaml web web-v3 --from web-v2 --env FEATURE=on --weight 1000',
  ];
  static override args = {
    file: editedFileArg,
    deployment: deploymentArg,
    revision: requiredArg('new revision id'),
  };
  static override flags = {
    image: Flags.string({ summary: 'Image reference of the new revision.', exclusive: ['command'] }),
    command: Flags.string({
      summary: 'Command of the new revision (repeat once per argument).',
      multiple: true,
      exclusive: ['image'],
    }),
    from: Flags.string({ summary: "Copy this revision's definition (default: the last one)." }),
    env: Flags.string({ summary: 'Set an artifact environment variable KEY=VALUE (repeatable).', multiple: true }),
    weight: Flags.integer({
      summary: 'Traffic share of the new revision in basis points (10000 = 100%).',
      min: 0,
      max: 10000,
    }),
    ...editFlags,
  };

  async run(): Promise<void> {
    await this.runOperation(RevisionAdd, operations.edit, (m, { args, flags }) => {
      const options = {
        deployment: args.deployment,
        revision: args.revision,
        image: flags.image,
        command: flags.command,
        from: flags.from,
        env: m.parseEnvPairs(flags.env),
        weight: flags.weight,
      };
      return m.revisionAddCommand(args.file, options, flags);
    });
  }
}
