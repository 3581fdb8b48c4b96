import { Flags } from '@oclif/core';
import { BpCommand } from '../base.js';
import { envFileArg, json, refresh, sourceFlags, target } from '../flags.js';

export default class Plan extends BpCommand {
  static override summary = 'Show what apply would do: the steps that take recorded state to the env file.';
  static override description =
    'Refreshes through each deployer (drift), then diffs desired against recorded state into a graph of stage, warm, ' +
    'apply_traffic_split, drain and archive steps. Exit 0 on success, 1 on error; with --detailed-exitcode 0 means no changes and 2 means changes.';
  static override examples = [
    '<%= config.bin %> plan env.yaml',
    '<%= config.bin %> plan env.yaml --out plan.json && <%= config.bin %> apply plan.json',
    '<%= config.bin %> plan env.yaml --json --detailed-exitcode',
  ];
  static override args = { file: envFileArg };
  static override flags = {
    out: Flags.string({ summary: 'Save the plan to this file for `bp apply PLANFILE`.' }),
    json,
    'detailed-exitcode': Flags.boolean({
      summary: 'Exit 0 when there are no changes, 2 when there are.',
      default: false,
    }),
    target,
    refresh,
    ...sourceFlags,
    destroy: Flags.boolean({ summary: 'Plan the teardown of everything the environment runs.', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plan);
    const { planCommand } = await import('../operations/plan.js');
    process.exitCode = await planCommand(args.file, flags);
  }
}
