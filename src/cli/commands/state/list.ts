import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { json } from '../../flags.js';

export default class StateList extends BpCommand {
  static override summary = 'List environments with recorded state.';
  static override flags = { json };

  async run(): Promise<void> {
    await this.runOperation(StateList, operations.inspect, (m, { flags }) => m.stateListCommand(flags));
  }
}
