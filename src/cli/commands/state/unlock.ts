import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { envIdArg, requiredArg, switchFlag } from '../../flags.js';

export default class StateUnlock extends BpCommand {
  static override summary = "Force-release an environment's state lock (only if its holder is really gone).";
  static override args = {
    env: envIdArg,
    lockId: requiredArg('the lock id printed in the lock-held message'),
  };
  static override flags = {
    force: switchFlag('Release the lock even though its holder is a live process on this host.'),
  };

  async run(): Promise<void> {
    await this.runOperation(StateUnlock, operations.inspect, (m, { args, flags }) =>
      m.stateUnlockCommand(args.env, args.lockId, flags),
    );
  }
}
