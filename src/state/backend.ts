/**
 * One interface every state backend implements (local files now, PostgreSQL later), proven
 * by one shared suite (test/state/backend-suite.ts). Writers persist `Mutation`s as they
 * happen (a journal, group-committed) and a snapshot at the end, so recording a step costs
 * O(step), not O(environment).
 */
import type { LockInfo } from '../model/errors.js';
import type { Mutation, RecordedState } from '../model/state.js';

export interface LockRequest {
  /** What the holder is doing: `apply`, `destroy`, `sweep`, `state unlock`... */
  operation: string;
  /** How long to wait for a held lock before failing with LockHeld; 0 fails at once. */
  timeoutMs: number;
  /** Called once when a dead holder's lock is taken over (the CLI prints it as a warning). */
  onTakeover?: (previous: LockInfo) => void;
}

export interface StateBackend {
  /** Human description for messages: `local state in ./.bp`, `postgres://host/db`. */
  readonly description: string;
  /** Ids of environments that have recorded state, sorted. */
  list(): Promise<string[]>;
  /** Recorded state with any journal replayed; null when the environment has none. */
  load(environmentId: string): Promise<RecordedState | null>;
  /** Takes the environment's exclusive lock or throws LockHeldError (after timeoutMs). */
  lock(environmentId: string, req: LockRequest): Promise<StateSession>;
  /** Who holds the lock now, if anyone. */
  lockHolder(environmentId: string): Promise<LockInfo | null>;
  /** Force-unlock; throws when `lockId` does not match the current holder. */
  forceUnlock(environmentId: string, lockId: string): Promise<void>;
  close(): Promise<void>;
}

/** A locked writer for one environment. */
export interface StateSession {
  readonly lock: LockInfo;
  /**
   * State as of taking the lock (journal replayed). Writers keep it current by applying
   * their own mutations; the session never mutates it behind their back.
   */
  readonly state: RecordedState | null;
  /**
   * Starts a new serial on top of `base` (a fresh lineage when there was no state).
   * Must be called before the first `record`.
   */
  begin(base: RecordedState): Promise<void>;
  /** Durably records mutations; concurrent calls are group-committed (one fsync). */
  record(mutations: Mutation[]): Promise<void>;
  /** Writes a full snapshot (the state after all recorded mutations) and clears the journal. */
  checkpoint(state: RecordedState): Promise<void>;
  /** Releases the lock. Safe to call twice. */
  release(): Promise<void>;
}
