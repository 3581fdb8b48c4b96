import { Flags } from '@oclif/core';
import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { envFileArg, json, refresh, sourceFlags, switchFlag, target } from '../flags.js';

export default class Plan extends BpCommand {
  static override summary = 'Show what apply would do: the steps that take recorded state to the env file.';
  static override description =
    'Refreshes through each deployer (drift), then diffs desired against recorded state into a graph of stage, warm, ' +
    'apply_traffic_split, drain and archive steps. Exit 0 on success, 1 on error; with --detailed-exitcode 0 means no changes, 2 changes, 4 a rollout waiting at a pause (promote), 5 diverged (see docs/ci.md).';
  static override examples = [
    '<%= config.bin %> plan env.yaml',
    '<%= config.bin %> plan env.yaml --out plan.json && <%= config.bin %> apply plan.json',
    '<%= config.bin %> plan env.yaml --json --detailed-exitcode',
    '<%= config.bin %> plan env.yaml --out plan.json --format markdown > plan.md',
  ];
  static override args = { file: envFileArg };
  static override flags = {
    out: Flags.string({ summary: 'Save the plan to this file for `bp apply PLANFILE`.' }),
    json,
    format: Flags.string({
      summary: 'Output format: text (default), json (same as --json) or markdown (a pull-request comment).',
      options: ['text', 'json', 'markdown'],
    }),
    'detailed-exitcode': switchFlag(
      'Exit 0: no changes, 2: changes, 4: only a rollout waiting at a pause, 5: the file diverges from a rolled-back split.',
    ),
    target,
    refresh,
    ...sourceFlags,
    destroy: switchFlag('Plan the teardown of everything the environment runs.'),
  };

  async run(): Promise<void> {
    await this.runOperation(Plan, operations.plan, (m, { args, flags }) => m.planCommand(args.file, flags));
  }
}
