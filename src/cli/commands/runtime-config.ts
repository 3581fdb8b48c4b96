import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { envIdArg } from '../flags.js';

export default class RuntimeConfig extends BpCommand {
  static override summary = 'Print the materialized runtime config (bp.runtime-config/v1) of an environment.';
  static override args = { env: envIdArg };

  async run(): Promise<void> {
    await this.runOperation(RuntimeConfig, operations.inspect, (m, { args, flags }) =>
      m.runtimeConfigCommand(args.env, flags),
    );
  }
}
