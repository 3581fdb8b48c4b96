import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { envIdArg, historyLimit, lockTimeout, optionalArg, switchFlag } from '../../flags.js';

export default class StateRm extends BpCommand {
  static override summary = 'Forget recorded state: a whole environment, one deployment or one revision.';
  static override description =
    'Takes the state lock and removes the records only; nothing at the provider changes. Use it to start an ' +
    'environment over after bp destroy (archived revisions are final otherwise). Refuses to forget revisions ' +
    'that are not archived unless --force.';
  static override examples = [
    '<%= config.bin %> destroy env.yaml --auto-approve && <%= config.bin %> state rm demo',
    '<%= config.bin %> state rm demo web-v1',
  ];
  static override args = {
    env: envIdArg,
    target: optionalArg('deployment or revision id (default: everything)'),
  };
  static override flags = {
    force: switchFlag('Also forget revisions that are not archived (they keep running, unmanaged).'),
    'lock-timeout': lockTimeout,
    'history-limit': historyLimit,
  };

  async run(): Promise<void> {
    await this.runOperation(StateRm, operations.stateRm, (m, { args, flags }) =>
      m.stateRmCommand(args.env, args.target, flags),
    );
  }
}
