import { Flags } from '@oclif/core';
import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import {
  envFileArg,
  historyLimit,
  json,
  lockTimeout,
  parallelism,
  refresh,
  sourceFlags,
  stepTimeout,
  target,
} from '../flags.js';

/** `--watch` alone (or followed by the file or another flag) means the default interval. */
function defaultWatchInterval(argv: string[]): string[] {
  const out = [...argv];
  const i = out.indexOf('--watch');
  if (i >= 0) {
    const next = out[i + 1];
    if (next === undefined || !/^[0-9]+(\.[0-9]+)?[smhd]?$/.test(next)) out[i] = '--watch=60s';
  }
  return out;
}

export default class Sweep extends BpCommand {
  static override summary =
    'Archive revisions whose ttl has passed and that carry no traffic (drained first), with retries.';
  static override description =
    'Runs only the drain and archive steps of TTL-expired revisions, each step up to 3 attempts with exponential backoff; ' +
    'never changes a traffic split and never touches a revision that carries traffic (it is reported instead). ' +
    'The state lock is taken only when something expired. With --watch INTERVAL (default 60s) it sweeps again every ' +
    'INTERVAL, reporting failed passes and going on, until SIGINT/SIGTERM. Exit 0 when every expired revision without ' +
    'traffic was archived (or none expired), 1 on an error or a failed step, 130 when a signal interrupted a sweep that was ' +
    'changing state; --watch stopped between passes exits 0.';
  static override examples = ['<%= config.bin %> sweep env.yaml', '<%= config.bin %> sweep env.yaml --watch 5m'];
  static override args = { file: envFileArg };
  static override flags = {
    watch: Flags.string({
      summary: 'Keep sweeping every INTERVAL (e.g. 30s, 5m; default 60s) until SIGINT/SIGTERM.',
      helpValue: 'INTERVAL',
    }),
    json,
    'lock-timeout': lockTimeout,
    parallelism,
    target,
    refresh,
    'step-timeout': stepTimeout,
    'history-limit': historyLimit,
    ...sourceFlags,
  };

  async run(): Promise<void> {
    await this.runOperation(
      Sweep,
      operations.sweep,
      (m, { args, flags }) => m.sweepCommand(args.file, flags),
      defaultWatchInterval(this.argv),
    );
  }
}
