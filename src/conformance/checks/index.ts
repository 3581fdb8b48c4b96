/** Every check, in the order the bench runs and reports them. */
import { archiveClean } from './archive.js';
import type { Check } from './check.js';
import { idempotentArchive, idempotentDrain, idempotentSplit, idempotentStage, idempotentWarm } from './idempotency.js';
import { concurrency, happyPath } from './lifecycle.js';
import { abort, invalidSplit, missingSplit, unknownRevision } from './rejections.js';
import { errorShape, runtimeConfig } from './reporting.js';
import { splitIsolation, splitOutcome } from './splits.js';

export type { Check } from './check.js';

export const ALL_CHECKS: readonly Check[] = [
  happyPath,
  idempotentStage,
  idempotentWarm,
  idempotentSplit,
  idempotentDrain,
  idempotentArchive,
  unknownRevision,
  invalidSplit,
  missingSplit,
  splitIsolation,
  splitOutcome,
  archiveClean,
  runtimeConfig,
  abort,
  concurrency,
  errorShape,
];
