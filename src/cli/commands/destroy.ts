import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { envFileArg, runFlags } from '../flags.js';

export default class Destroy extends BpCommand {
  static override summary = "Drain and archive everything the file's environment runs, and release its routing.";
  static override examples = ['<%= config.bin %> destroy env.yaml --auto-approve'];
  static override args = { file: envFileArg };
  static override flags = runFlags;

  async run(): Promise<void> {
    await this.runOperation(Destroy, operations.apply, (m, { args, flags }) =>
      m.applyCommand(args.file, flags, 'destroy'),
    );
  }
}
