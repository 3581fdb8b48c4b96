/** Maps any error to the one sentence (or list of FILE:LINE:COL lines) an operator sees. */
import { escapeControls } from '../model/escape.js';
import { BpError, InvalidInputError, PlanError } from '../model/errors.js';

/** The one sentence the CLI prints for an error, with control characters made visible. */
export function errorMessageFor(err: unknown): string {
  // bp's own rendered output (ExitWith) may carry its styling; everything else is made safe.
  return err instanceof ExitWith ? err.message : escapeControls(rawErrorMessageFor(err));
}

function rawErrorMessageFor(err: unknown): string {
  if (err instanceof ExitWith) return err.message;
  if (err instanceof InvalidInputError) return err.message;
  if (err instanceof PlanError) {
    return err.problems.length === 1
      ? `Error: ${err.problems[0]}`
      : `Error: the plan cannot be made:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`;
  }
  if (BpError.is(err)) return `Error: ${err.message}`;
  const e = err as { message?: string; oclif?: unknown; code?: string };
  if (e && typeof e.message === 'string') {
    // oclif parse errors carry their own wording; keep the first paragraph only.
    const first = e.message.split('\n').filter((l) => l.trim() !== '' && !l.includes('See more help'))[0] ?? e.message;
    return `Error: ${first.trim().replace(/^Error:\s*/, '')}`;
  }
  return `Error: ${String(err)}`;
}

export function exitCodeFor(err: unknown): number {
  const e = err as { oclif?: { exit?: number }; exitCode?: number };
  if (typeof e?.exitCode === 'number') return e.exitCode;
  return 1;
}

/** Thrown by commands to end with a specific exit code after having printed their output. */
export class ExitWith extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message = '') {
    super(message);
    this.exitCode = exitCode;
  }
}
