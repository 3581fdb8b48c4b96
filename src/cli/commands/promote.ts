import { Flags } from '@oclif/core';
import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { historyLimit, lockTimeout, requiredArg, sourceFlags, switchFlag } from '../flags.js';

export default class Promote extends BpCommand {
  static override summary = 'Copy a revision proven in staging into the prod env file.';
  static override description =
    "Refuses, naming each reason, unless staging's recorded state shows the revision ready, carrying traffic without a " +
    'break for at least --min-soak, and its rollout not rolled back, aborted or halted. The definition copied is the one ' +
    'staging recorded (what ran). The prod file is edited keeping comments, validated, written atomically, and the change ' +
    'printed as a unified diff. Recorded in the staging environment history (with the reasons --force overrode). ' +
    '--overlay, --var and --var-file apply to the staging file.';
  static override examples = [
    '<%= config.bin %> promote web-4f2a1c --from envs/staging.yaml --to envs/prod.yaml --weight 1000 --min-soak 30m',
  ];
  static override args = { revision: requiredArg('revision id to promote') };
  static override flags = {
    from: Flags.string({ summary: 'The staging env file (its recorded state is the proof).', required: true }),
    to: Flags.string({ summary: 'The prod env file to edit.', required: true }),
    weight: Flags.integer({
      summary: 'Give the revision this share in prod (basis points); the others keep their proportions.',
      min: 0,
      max: 10000,
    }),
    'min-soak': Flags.string({
      summary: 'How long it must have carried traffic in staging without a break (e.g. 30m).',
      default: '0s',
    }),
    force: switchFlag('Promote although the gate refuses; recorded in history.'),
    'dry-run': switchFlag('Check the gate and print the diff without writing.'),
    ...sourceFlags,
    'lock-timeout': lockTimeout,
    'history-limit': historyLimit,
  };

  async run(): Promise<void> {
    await this.runOperation(Promote, operations.promote, (m, { args, flags }) =>
      m.promoteCommand(args.revision, flags),
    );
  }
}
