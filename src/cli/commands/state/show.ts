import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { envIdArg, json } from '../../flags.js';

export default class StateShow extends BpCommand {
  static override summary = "Show an environment's recorded state: serial, lock, splits, revision lifecycles.";
  static override args = { env: envIdArg };
  static override flags = { json };

  async run(): Promise<void> {
    await this.runOperation(StateShow, operations.inspect, (m, { args, flags }) => m.stateShowCommand(args.env, flags));
  }
}
