import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { deploymentArg, envIdArg, recordedStateFlags } from '../../flags.js';

export default class RolloutAbort extends BpCommand {
  static override summary = 'Stop a rollout: the stable split again at once, the canary drained (not archived).';
  static override description =
    'Works from recorded state alone (no env file). Afterwards bp plan shows the deployment as diverged from the file ' +
    'until the file changes (a new revision, or the stable split).';
  static override examples = ['<%= config.bin %> rollout abort demo web'];
  static override args = {
    env: envIdArg,
    deployment: deploymentArg,
  };
  static override flags = recordedStateFlags;

  async run(): Promise<void> {
    await this.runOperation(RolloutAbort, operations.rollout, (m, { args, flags }) =>
      m.rolloutControlCommand(args.env, args.deployment, { kind: 'abort' }, flags),
    );
  }
}
