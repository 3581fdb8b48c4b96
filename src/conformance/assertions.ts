/** Judgements shared by the checks; each throws a CheckFailure carrying expected and observed. */
import type { SplitEntry } from '../model/environment.js';
import { errorCode } from '../model/errors.js';
import type { Attempt } from './harness.js';
import { splitIn, statusIn, weightMap, type ObservedStatus, type Snapshot } from './snapshot.js';
import { CheckFailure, describeError, sameValue } from './verdict.js';

export function expectStatus(snap: Snapshot, revisionId: string, want: ObservedStatus, when: string): void {
  const got = statusIn(snap, revisionId);
  if (got !== want) {
    throw new CheckFailure(`${when}: observe shows ${revisionId} ${got}, expected ${want}`, want, got);
  }
}

export function expectSplit(snap: Snapshot, deploymentId: string, entries: SplitEntry[], when: string): void {
  const want = weightMap(entries);
  const got = splitIn(snap, deploymentId);
  if (!sameValue(want, got)) {
    throw new CheckFailure(`${when}: observed split of ${deploymentId} differs from the one applied`, want, got);
  }
}

export function expectUnchanged(before: Snapshot, after: Snapshot, when: string): void {
  if (!sameValue(before, after)) {
    throw new CheckFailure(`${when}: observe changed`, before, after);
  }
}

/** The call must have rejected with `code`; returns the error for further checks. */
export function expectRejected(a: Attempt, code: string, when: string): unknown {
  if (a.ok) {
    throw new CheckFailure(`${when}: resolved, expected a ${code} rejection`, code, 'resolved');
  }
  const got = errorCode(a.error);
  if (got !== code) {
    throw new CheckFailure(
      `${when}: rejected with ${got ?? 'no code'} (${describeError(a.error)}), expected ${code}`,
      code,
      got ?? describeError(a.error),
    );
  }
  return a.error;
}

/** The error's own `message` property ('' when it has none): what the bench judges an error by. */
export function ownMessage(e: unknown): string {
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string'
    ? (e as { message: string }).message
    : '';
}
