/** What every secret store shares: its interface, its error, and loading an optional SDK. */
import { BpError } from '../../model/errors.js';
import type { Reference } from '../../spec/index.js';

export type SecretReference = Extract<Reference, { kind: 'secret' }>;

export interface Fetched {
  value: string;
  /** The store's version id of what was fetched (never the value). */
  version: string;
}

export interface SecretStore {
  fetch(ref: SecretReference, signal: AbortSignal): Promise<Fetched>;
}

export type StoreFactory = (vars: Record<string, string | undefined>) => Promise<SecretStore>;

/** Why a reference could not be resolved; the message names the reference, never a value. */
export class SecretStoreError extends BpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Provider', message, options);
  }
}

export async function importOptional<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (
      (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ||
      (e as { code?: string }).code === 'MODULE_NOT_FOUND'
    ) {
      throw new SecretStoreError(`secret references to this store need the package ${pkg}: run "npm install ${pkg}"`, {
        cause: e,
      });
    }
    throw e;
  }
}

export function describe(ref: SecretReference): string {
  return `${ref.store}:${ref.ref}${ref.version ? `@${ref.version}` : ''}`;
}

/** `status`: the HTTP status when the SDK names it some other way than AWS's `$metadata`. */
export function failure(ref: SecretReference, e: unknown, status?: number | string): SecretStoreError {
  const name = (e as { name?: string })?.name ?? 'Error';
  const http = status ?? (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const shown = typeof http === 'number' ? `HTTP ${http}` : http;
  return new SecretStoreError(`cannot read secret ${describe(ref)}: ${name}${shown ? ` (${shown})` : ''}`, {
    cause: e,
  });
}

/**
 * A store from its `read`: any failure but the store's own SecretStoreError becomes one naming the
 * reference. `statusOf` says what status the SDK's error carries when it is not AWS's `$metadata`.
 */
export function namingFailures(
  read: SecretStore['fetch'],
  statusOf?: (e: unknown) => number | string | undefined,
): SecretStore {
  return {
    async fetch(ref, signal) {
      try {
        return await read(ref, signal);
      } catch (e) {
        throw e instanceof SecretStoreError ? e : failure(ref, e, statusOf?.(e));
      }
    },
  };
}
