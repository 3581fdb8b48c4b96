/**
 * Apply-time resolution of references: every distinct reference in what is being resolved is
 * fetched once (env, file, or a secret store), a `#KEY` selects a key of the value parsed as
 * JSON, and the result is a synchronous `Lookup` for `resolveReferences` plus the store
 * version id of each secret reference (never its value). Every value is registered with the
 * redactor as soon as it is fetched.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { redactor } from '../../model/redact.js';
import { findReferences, type Lookup, type Reference, type SecretStoreKind } from '../../spec/index.js';
import { STORE_FACTORIES, type SecretStore, type StoreFactory } from './stores.js';

export interface ResolvedReferences {
  lookup: Lookup;
  /** Store version id per secret reference text (`${secret:...}`), for the record. */
  versions: Record<string, string>;
}

export interface ResolveOptions {
  vars: Record<string, string | undefined>;
  /** `${file:PATH}` resolves relative to this (the env file's directory). */
  baseDir: string;
  /** Where `value` sits inside the environment (only its reference sites are fetched). */
  basePath?: (string | number)[];
  signal?: AbortSignal;
  /** Tests may swap a store; by default src/apply/secrets/stores.ts. */
  stores?: Partial<Record<SecretStoreKind, StoreFactory>>;
}

type Outcome = { value: string; version?: string } | { problem: string };

function selectKey(ref: Reference, value: string): Outcome {
  if (ref.kind !== 'secret' || ref.key === undefined) return { value };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { problem: `${ref.text} selects key "${ref.key}" but the secret is not a JSON object` };
  }
  const v =
    parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, ref.key)
      ? (parsed as Record<string, unknown>)[ref.key]
      : undefined;
  if (v === undefined) return { problem: `${ref.text}: the secret has no key "${ref.key}"` };
  return { value: typeof v === 'string' ? v : JSON.stringify(v) };
}

/** Fetches every reference in `value` (reference sites only) and returns the lookup. */
export async function fetchReferences(value: unknown, opts: ResolveOptions): Promise<ResolvedReferences> {
  const refs = findReferences(value, opts.basePath);
  const outcomes = new Map<string, Outcome>();
  const stores = new Map<SecretStoreKind, Promise<SecretStore>>();
  const signal = opts.signal ?? new AbortController().signal;
  const storeFor = (kind: SecretStoreKind): Promise<SecretStore> => {
    let s = stores.get(kind);
    if (!s) {
      s = (opts.stores?.[kind] ?? STORE_FACTORIES[kind])(opts.vars);
      stores.set(kind, s);
    }
    return s;
  };
  await Promise.all(
    refs.map(async (ref) => {
      let out: Outcome;
      try {
        if (ref.kind === 'env') {
          const v = Object.hasOwn(opts.vars, ref.name) ? opts.vars[ref.name] : undefined;
          out = typeof v === 'string' ? { value: v } : { problem: `environment variable ${ref.name} is not set` };
        } else if (ref.kind === 'file') {
          const text = await readFile(resolvePath(opts.baseDir, ref.path), 'utf8');
          out = { value: text.replace(/\r?\n$/, '') };
        } else {
          const fetched = await (await storeFor(ref.store)).fetch(ref, signal);
          redactor.registerDeep(safeJson(fetched.value));
          redactor.register(fetched.value);
          out = { ...selectKey(ref, fetched.value), version: fetched.version } as Outcome;
        }
      } catch (e) {
        const code = (e as { code?: string }).code;
        out =
          ref.kind === 'file'
            ? { problem: `cannot read file ${ref.path} (${code ?? 'error'})` }
            : { problem: (e as Error).message };
      }
      if ('value' in out) redactor.register(out.value);
      outcomes.set(ref.text, out);
    }),
  );
  const versions: Record<string, string> = {};
  for (const [text, o] of outcomes) if ('version' in o && o.version !== undefined) versions[text] = o.version;
  return {
    versions,
    lookup: (ref) => {
      const o = outcomes.get(ref.text);
      if (!o) return { problem: `${ref.text} was not fetched` };
      return 'value' in o ? { value: o.value } : { problem: o.problem };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
