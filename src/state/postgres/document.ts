/**
 * Reading a state row back: the document plus the journal rows of its serial, checked the
 * way the local backend checks its files, so a hand-edited or foreign row is reported as
 * corrupt (naming the table and environment) instead of being half-applied.
 */
import { StateCorruptError } from '../../model/errors.js';
import {
  applyMutation,
  MUTATION_KINDS,
  stateDocumentProblem,
  type Mutation,
  type RecordedState,
} from '../../model/state.js';

export interface StateRow {
  lineage: string;
  serial: string | number;
  document: unknown;
  /** One entry per `record` call of this serial, in call order. */
  journal: unknown;
}

export function stateFromRow(row: StateRow, environmentId: string, where: string): RecordedState {
  const corrupt = (table: string, problem: string): StateCorruptError =>
    new StateCorruptError(
      `recorded state is corrupt: ${table} row of environment "${environmentId}" in ${where}: ${problem}; ` +
        'restore it from a database backup or remove the row to start the environment afresh',
    );
  const doc = row.document;
  const problem = stateDocumentProblem(doc, environmentId);
  if (problem) throw corrupt('bp_states', problem);
  const state = doc as RecordedState;
  if (state.lineage !== row.lineage || state.serial !== Number(row.serial)) {
    throw corrupt(
      'bp_states',
      `document says lineage ${state.lineage} serial ${state.serial}, the row ${row.lineage} serial ${row.serial}`,
    );
  }
  if (!Array.isArray(row.journal)) throw corrupt('bp_journal', 'journal is not a list');
  row.journal.forEach((batch: unknown, i) => {
    if (!Array.isArray(batch)) throw corrupt('bp_journal', `entry ${i + 1} is not a list of mutations`);
    for (const m of batch as Mutation[]) {
      const kind = (m as { kind?: unknown } | null)?.kind;
      if (typeof kind !== 'string' || !MUTATION_KINDS.has(kind))
        throw corrupt('bp_journal', `entry ${i + 1}: unknown mutation kind ${JSON.stringify(kind)}`);
      applyMutation(state, m);
    }
  });
  return state;
}
