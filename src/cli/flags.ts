/** Flag definitions shared by several commands (cheap to import: no core modules). */
import { Flags } from '@oclif/core';

export const lockTimeout = Flags.string({
  summary: 'Wait this long for a held state lock (e.g. 30s, 5m) instead of failing at once.',
  default: '0s',
});

export const parallelism = Flags.integer({ summary: 'How many steps may run at once.', default: 10, min: 1 });

export const refresh = Flags.string({
  summary: 'Ask deployers what really runs before planning (drift). Use --refresh=false to skip.',
  options: ['true', 'false'],
  default: 'true',
});

export const json = Flags.boolean({ summary: 'Machine-readable JSON output.', default: false });

export const target = Flags.string({ summary: 'Limit to this deployment (repeatable).', multiple: true });

export const autoApprove = Flags.boolean({ summary: 'Skip the interactive approval of the plan.', default: false });

export const stepTimeout = Flags.string({ summary: 'Per-verb timeout overriding the defaults (e.g. 10m).' });

export const retries = Flags.integer({
  summary: 'Attempts per step for retryable provider errors.',
  default: 4,
  min: 1,
});

/** Where the environment comes from besides its file: overlays and variables (plan, apply, validate...). */
export const sourceFlags = {
  overlay: Flags.string({
    summary: 'Merge this overlay file onto the env file (repeatable, in order).',
    multiple: true,
  }),
  var: Flags.string({ summary: 'Set a variable used as ${var:NAME} (NAME=VALUE, repeatable).', multiple: true }),
  'var-file': Flags.string({
    summary: 'Read variables from this YAML file of NAME: value (repeatable).',
    multiple: true,
  }),
};

export const historyLimit = Flags.integer({
  summary: 'History entries kept in state (oldest dropped first).',
  default: 100,
  min: 1,
});

/** Flags shared by every command that runs a plan (`apply`, `destroy`). */
export const runFlags = {
  'auto-approve': autoApprove,
  parallelism,
  json,
  'lock-timeout': lockTimeout,
  target,
  refresh,
  'step-timeout': stepTimeout,
  retries,
  'history-limit': historyLimit,
  ...sourceFlags,
};

export const wait = Flags.string({
  summary:
    'Let rollouts wait through pauses for up to this long (e.g. 10m); without it, apply stops at the first pause.',
});
