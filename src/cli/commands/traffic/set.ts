import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { deploymentArg, editedFileArg, editFlags } from '../../flags.js';

export default class TrafficSet extends BpCommand {
  static override summary =
    "Set a deployment's traffic split in an env file (REV=BPS..., summing to 10000); prints the diff.";
  static override strict = false;
  static override examples = ['<%= config.bin %> traffic set env.yaml web web-v1=9000 web-v2=1000'];
  static override args = {
    file: editedFileArg,
    deployment: deploymentArg,
  };
  static override flags = {
    ...editFlags,
  };

  async run(): Promise<void> {
    await this.runOperation(TrafficSet, operations.edit, (m, { args, flags, argv }) => {
      const weights = (argv as string[]).slice(2);
      if (weights.length === 0) this.error('give at least one REVISION=BPS', { exit: 2 });
      return m.trafficSetCommand(args.file, args.deployment, weights, flags);
    });
  }
}
