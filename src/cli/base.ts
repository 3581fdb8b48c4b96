/**
 * Base of every bp command: shared flags and the one place errors become a single clear
 * sentence on stderr (a stack trace only with BP_DEBUG=1). Commands stay thin: parse flags,
 * call the core, render a view.
 */
import { Command, Flags } from '@oclif/core';
import { ExitWith, errorMessageFor, exitCodeFor } from './errors.js';
import { usageErrorMessage } from './usage.js';

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
