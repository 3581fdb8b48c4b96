import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { deploymentArg, envIdArg, recordedStateFlags, switchFlag, wait } from '../../flags.js';

export default class RolloutPromote extends BpCommand {
  static override summary =
    'Pass the current pause (or halted analysis) of a rollout and go on; --full goes straight to the declared split.';
  static override description =
    'Works from recorded state alone (no env file): records the decision, then continues the rollout through the deployer ' +
    'up to its next pause (or through pauses, with --wait). Exit 0 when the rollout completed or holds at a pause, 1 when it failed.';
  static override examples = [
    '<%= config.bin %> rollout promote demo web',
    '<%= config.bin %> rollout promote demo web --full',
  ];
  static override args = {
    env: envIdArg,
    deployment: deploymentArg,
  };
  static override flags = {
    full: switchFlag('Skip every remaining step: apply the declared split now.'),
    wait,
    ...recordedStateFlags,
  };

  async run(): Promise<void> {
    await this.runOperation(RolloutPromote, operations.rollout, (m, { args, flags }) =>
      m.rolloutControlCommand(args.env, args.deployment, { kind: 'promote', full: flags.full }, flags),
    );
  }
}
