import { BpCommand } from '../../base.js';
import { json } from '../../flags.js';

export default class StateList extends BpCommand {
  static override summary = 'List environments with recorded state.';
  static override flags = { json };

  async run(): Promise<void> {
    const { flags } = await this.parse(StateList);
    const { stateListCommand } = await import('../../operations/inspect.js');
    process.exitCode = await stateListCommand(flags);
  }
}
