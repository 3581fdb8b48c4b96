/**
 * Base of every bp command: shared flags and the one place errors become a single clear
 * sentence on stderr (a stack trace only with BP_DEBUG=1). Commands stay thin: parse flags,
 * call the core, render a view.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { ExitWith, errorMessageFor, exitCodeFor } from './errors.js';
import { usageErrorMessage } from './usage.js';

/** Parsed flags or args by name (oclif's FlagOutput/ArgOutput, which its Interfaces do not export). */
type Parsed = { [name: string]: unknown };

export abstract class BpCommand extends Command {
  static override baseFlags = {
    'state-dir': Flags.string({
      summary: 'Directory of recorded state (default ./.bp).',
      env: 'BP_STATE_DIR',
      helpGroup: 'STATE',
    }),
    backend: Flags.string({
      summary: 'State backend URL (postgres://...); default: local files in --state-dir.',
      env: 'BP_BACKEND',
      helpGroup: 'STATE',
    }),
  };

  /**
   * The whole `run()` of a thin command: parse its argv, load the module of its operation only now (so
   * `bp --version` and help never import the core), run it and exit with the code it returns.
   */
  protected async runOperation<F extends Parsed, B extends Parsed, A extends Parsed, M>(
    command: Interfaces.Input<F, B, A>,
    load: () => Promise<M>,
    operation: (module: M, parsed: Interfaces.ParserOutput<F, B, A>) => Promise<number>,
    argv?: string[],
  ): Promise<void> {
    const parsed = await this.parse(command, argv);
    process.exitCode = await operation(await load(), parsed);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    if (err.oclif?.exit !== undefined && !(err.message ?? '').trim().length) throw err;
    if (err.oclif?.exit !== undefined && err.constructor?.name === 'ExitError') throw err;
    const ctor = this.constructor as { args?: Record<string, { description?: string }> };
    const args = Object.entries(ctor.args ?? {}).map(([name, a]) => ({ name, description: a.description }));
    const usage = usageErrorMessage(err, { bin: this.config.bin, id: this.id ?? '', args });
    const message = usage ?? (err instanceof ExitWith && err.message === '' ? '' : errorMessageFor(err));
    if (message) process.stderr.write(`${message}\n`);
    if (process.env.BP_DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
