import { Args, Flags } from '@oclif/core';
import { BpCommand } from '../../base.js';
import { envIdArg } from '../../flags.js';

export default class StateUnlock extends BpCommand {
  static override summary = "Force-release an environment's state lock (only if its holder is really gone).";
  static override args = {
    env: envIdArg,
    lockId: Args.string({ required: true, description: 'the lock id printed in the lock-held message' }),
  };
  static override flags = {
    force: Flags.boolean({
      summary: 'Release the lock even though its holder is a live process on this host.',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(StateUnlock);
    const { stateUnlockCommand } = await import('../../operations/inspect.js');
    process.exitCode = await stateUnlockCommand(args.env, args.lockId, flags);
  }
}
