/**
 * Chooses the state backend: local files unless `--backend` (env BP_BACKEND) names a URL.
 * URL backends are looked up by scheme, so adding one (PostgreSQL) is one table entry.
 */
import { UsageError } from '../model/errors.js';
import type { StateBackend } from './backend.js';
import { LocalStateBackend } from './local.js';

export type { LockRequest, StateBackend, StateSession } from './backend.js';
export { LocalStateBackend, type LocalStateStats } from './local.js';
export { writeFileDurable, fsyncDirectory } from './durable.js';

export const DEFAULT_STATE_DIR = './.bp';

export interface OpenStateBackendOptions {
  /** Already resolved by the caller (flag, then BP_STATE_DIR); defaults to ./.bp. */
  stateDir?: string;
  /** Already resolved by the caller (flag, then BP_BACKEND); empty means local files. */
  backend?: string;
}

type UrlBackendFactory = (url: string) => Promise<StateBackend>;

/** Imported on use only: local state must never load `pg` (nor bp --version). */
const postgres: UrlBackendFactory = async (url) => (await import('./postgres.js')).openPostgresStateBackend(url);

/** URL scheme (with the colon, as URL.protocol spells it) to backend. */
const URL_BACKENDS: Record<string, UrlBackendFactory> = {
  'postgres:': postgres,
  'postgresql:': postgres,
};

export async function openStateBackend(opts: OpenStateBackendOptions): Promise<StateBackend> {
  const backend = opts.backend ?? '';
  if (backend === '') return new LocalStateBackend(opts.stateDir || DEFAULT_STATE_DIR);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:)\/\//.exec(backend)?.[1]?.toLowerCase();
  const factory = scheme === undefined ? undefined : URL_BACKENDS[scheme];
  if (!factory) {
    const forms = Object.keys(URL_BACKENDS)
      .map((s) => `${s}//...`)
      .join(' or ');
    // Redacted: a database URL may carry a password.
    throw new UsageError(
      `unsupported state backend "${redact(backend)}": leave --backend (BP_BACKEND) empty for local files in --state-dir, or give ${forms}`,
    );
  }
  return factory(backend);
}

function redact(url: string): string {
  return url.replace(/\/\/([^/@]*)@/, '//***@');
}
