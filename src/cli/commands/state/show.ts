import { BpCommand } from '../../base.js';
import { envIdArg, json } from '../../flags.js';

export default class StateShow extends BpCommand {
  static override summary = "Show an environment's recorded state: serial, lock, splits, revision lifecycles.";
  static override args = { env: envIdArg };
  static override flags = { json };

  async run(): Promise<void> {
    await this.runOperation(
      StateShow,
      () => import('../../operations/inspect.js'),
      (op, { args, flags }) => op.stateShowCommand(args.env, flags),
    );
  }
}
