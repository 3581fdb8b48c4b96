import { Flags } from '@oclif/core';
import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { deploymentArg, envIdArg, historyLimit, recordedStateFlags } from '../flags.js';

export default class Rollback extends BpCommand {
  static override summary =
    "Restore a deployment's split from an earlier history entry (default: the last different one).";
  static override description =
    'Works from recorded state alone (no env file), under the state lock: a drained revision of that split is staged and ' +
    'warmed again before traffic moves to it, then the split is applied and the revision that lost the traffic is drained. ' +
    'Recorded in history. Afterwards bp plan reports the deployment as diverged from the file (plan --detailed-exitcode ' +
    'exits 5) until the file agrees or asks for something new.';
  static override examples = [
    '<%= config.bin %> rollback shop-prod web',
    '<%= config.bin %> history shop-prod && <%= config.bin %> rollback shop-prod web --to 7',
  ];
  static override args = {
    env: envIdArg,
    deployment: deploymentArg,
  };
  static override flags = {
    to: Flags.integer({ summary: 'The history entry whose split to restore (see bp history).', min: 1 }),
    ...recordedStateFlags,
    'history-limit': historyLimit,
  };

  async run(): Promise<void> {
    await this.runOperation(Rollback, operations.rollback, (m, { args, flags }) =>
      m.rollbackCommand(args.env, args.deployment, flags),
    );
  }
}
