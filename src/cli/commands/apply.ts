import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { requiredArg, runFlags, wait } from '../flags.js';

export default class Apply extends BpCommand {
  static override summary = 'Run the plan: stage, warm, shift traffic, drain, archive; record every step.';
  static override description =
    'Given an env file, plans (with refresh) and asks for approval unless --auto-approve. Given a saved plan (bp plan --out), ' +
    'applies exactly that plan, refusing it when state changed since (stale). Exit 0 when converged, 1 on any error or failed step, ' +
    '130 when interrupted (first Ctrl-C lets running steps finish; a second stops at once). A deployment with a rollout ' +
    'walks its steps; apply stops at the first pause (exit 0, the rollout holding) unless --wait lets it wait through; a failed ' +
    'analysis rolls back (exit 1).';
  static override examples = [
    '<%= config.bin %> apply env.yaml --auto-approve',
    '<%= config.bin %> plan env.yaml --out plan.json && <%= config.bin %> apply plan.json',
    '<%= config.bin %> apply env.yaml --auto-approve --wait 15m',
  ];
  static override args = { file: requiredArg('env file or saved plan') };
  static override flags = { ...runFlags, wait };

  async run(): Promise<void> {
    await this.runOperation(Apply, operations.apply, (m, { args, flags }) => m.applyCommand(args.file, flags, 'apply'));
  }
}
