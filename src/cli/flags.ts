/** Flag definitions shared by several commands (cheap to import: no core modules). */
import { Args, Flags } from '@oclif/core';

/** An on/off flag, off unless given. */
export const switchFlag = (summary: string) => Flags.boolean({ summary, default: false });

/** A positional argument the command cannot do without. */
export const requiredArg = (description: string) => Args.string({ required: true, description });

/** A positional argument the command has a default for. */
export const optionalArg = (description: string) => Args.string({ required: false, description });

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

export const json = switchFlag('Machine-readable JSON output.');

export const target = Flags.string({ summary: 'Limit to this deployment (repeatable).', multiple: true });

export const autoApprove = switchFlag('Skip the interactive approval of the plan.');

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

/** Positional arguments several commands share. */
export const envIdArg = requiredArg('environment id');
export const deploymentArg = requiredArg('deployment id');
export const envFileArg = requiredArg('env file (YAML)');
export const editedFileArg = requiredArg('env file (YAML) to edit');

/** Flags of the commands that edit an env file (`revision add/retire`, `traffic set`). */
export const editFlags = {
  'dry-run': switchFlag('Print the diff without writing the file.'),
  var: Flags.string({ summary: 'Variable NAME=VALUE used to validate the result (repeatable).', multiple: true }),
  'var-file': Flags.string({
    summary: 'YAML file of variables used to validate the result (repeatable).',
    multiple: true,
  }),
};

/** Flags of the commands that act on recorded state alone, with no env file (`rollback`, `rollout abort/promote`). */
export const recordedStateFlags = { json, 'lock-timeout': lockTimeout, retries };
