import { Flags } from '@oclif/core';
import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { envIdArg, json, optionalArg, switchFlag } from '../../flags.js';

export default class RolloutStatus extends BpCommand {
  static override summary = 'Show where rollouts stand: step, traffic now, stable and target splits, analysis results.';
  static override examples = [
    '<%= config.bin %> rollout status demo',
    '<%= config.bin %> rollout status demo web --json',
    '<%= config.bin %> rollout status demo web --watch --exit-status',
  ];
  static override args = {
    env: envIdArg,
    deployment: optionalArg('only this deployment'),
  };
  static override flags = {
    json,
    watch: switchFlag('Keep showing the rollouts (redrawn on a terminal) until none is progressing or paused.'),
    interval: Flags.string({
      summary: 'How often --watch reads state again: a duration such as 2s, 0.5s or 1m.',
      default: '2s',
    }),
    'exit-status': switchFlag('Exit 3 when a rollout shown is rolled_back, aborted or halted (0 otherwise).'),
  };

  async run(): Promise<void> {
    await this.runOperation(RolloutStatus, operations.rollout, (m, { args, flags }) =>
      m.rolloutStatusCommand(args.env, args.deployment, flags),
    );
  }
}
