import { BpCommand } from '../../base.js';
import { operations } from '../../operations-loader.js';
import { optionalArg } from '../../flags.js';

export default class PluginsLock extends BpCommand {
  static override summary = 'Trust the deployer plugins env files name: record their paths and sha256 in bp.lock.json.';
  static override description =
    'Writes bp.lock.json beside each env file with every non-built-in plugin it names (resolved path, or package ' +
    'name and version) and the sha256 of its code. validate, plan and apply then refuse a plugin missing from the ' +
    'lock or whose code changed. Plugin code is hashed, never imported. Entries for plugins the given files do not ' +
    'name are kept.';
  static override strict = false;
  static override examples = ['<%= config.bin %> plugins lock env.yaml', '<%= config.bin %> plugins lock envs/*.yaml'];
  static override args = {
    file: optionalArg('env files (default: env.yaml)'),
  };

  async run(): Promise<void> {
    await this.runOperation(PluginsLock, operations.pluginsLock, (m, { argv }) =>
      m.pluginsLockCommand(argv.length > 0 ? (argv as string[]) : ['env.yaml']),
    );
  }
}
