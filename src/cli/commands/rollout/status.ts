import { Args, Flags } from '@oclif/core';
import { BpCommand } from '../../base.js';
import { envIdArg, json } from '../../flags.js';

export default class RolloutStatus extends BpCommand {
  static override summary = 'Show where rollouts stand: step, traffic now, stable and target splits, analysis results.';
  static override examples = [
    '<%= config.bin %> rollout status demo',
    '<%= config.bin %> rollout status demo web --json',
    '<%= config.bin %> rollout status demo web --watch --exit-status',
  ];
  static override args = {
    env: envIdArg,
    deployment: Args.string({ required: false, description: 'only this deployment' }),
  };
  static override flags = {
    json,
    watch: Flags.boolean({
      summary: 'Keep showing the rollouts (redrawn on a terminal) until none is progressing or paused.',
      default: false,
    }),
    interval: Flags.string({
      summary: 'How often --watch reads state again: a duration such as 2s, 0.5s or 1m.',
      default: '2s',
    }),
    'exit-status': Flags.boolean({
      summary: 'Exit 3 when a rollout shown is rolled_back, aborted or halted (0 otherwise).',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolloutStatus);
    const { rolloutStatusCommand } = await import('../../operations/rollout.js');
    process.exitCode = await rolloutStatusCommand(args.env, args.deployment, flags);
  }
}
