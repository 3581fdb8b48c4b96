/**
 * Checks both state sessions (local files and PostgreSQL) make before each read or write: a
 * released session is a bug in the caller, and so is state of another environment.
 */
import { BpError } from '../model/errors.js';
import type { RecordedState } from '../model/state.js';

/** `released` is the session's release in progress or done (null while it is open). */
export function assertSessionOpen(released: Promise<unknown> | null, what: string): void {
  if (released !== null) throw new BpError('Internal', `StateSession.${what} called after release`);
}

export function assertSessionEnvironment(environmentId: string, s: RecordedState): void {
  if (s.environment_id !== environmentId) {
    throw new BpError(
      'Internal',
      `state of environment "${s.environment_id}" given to the session of "${environmentId}"`,
    );
  }
}
