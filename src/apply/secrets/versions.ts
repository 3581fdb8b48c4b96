/**
 * Store version ids of secret references, per revision: what a revision was given (recorded in
 * state by its stage and warm steps) and what its store holds now (asked while refreshing, so
 * the plan can say "a newer version exists; declare a new revision to roll it out"). Version
 * ids only: the values fetched along the way are registered with the redactor and dropped.
 */
import type { Environment } from '../../model/environment.js';
import type { RecordedState } from '../../model/state.js';
import { classifyReferences, findReferences } from '../../spec/index.js';
import { fetchReferences, type ResolveOptions } from './resolve.js';

/** Per revision of `desired`: the version id of each secret reference in its artifact.env. */
export function revisionSecretVersions(
  desired: Environment,
  versions: Record<string, string>,
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const d of desired.deployments) {
    d.revisions.forEach((r, i) => {
      const refs = findReferences(r.artifact.env ?? {}, [
        'deployments',
        desired.deployments.indexOf(d),
        'revisions',
        i,
        'artifact',
        'env',
      ]);
      const mine: Record<string, string> = {};
      for (const ref of refs)
        if (ref.kind === 'secret' && versions[ref.text] !== undefined) mine[ref.text] = versions[ref.text];
      if (Object.keys(mine).length > 0) out[r.revision_id] = mine;
    });
  }
  return out;
}

/** How long the plan waits for the stores before it goes on without the note. */
const CHECK_TIMEOUT_MS = 15_000;

/**
 * The current version id of every unpinned secret reference recorded for a live revision. A
 * store that cannot be asked is left out (the plan then says nothing about it): checking for
 * newer versions never stops a plan.
 */
export async function currentSecretVersions(
  recorded: RecordedState | null,
  opts: Pick<ResolveOptions, 'vars' | 'baseDir' | 'stores'> & { signal?: AbortSignal },
): Promise<Record<string, Record<string, string>> | null> {
  if (!recorded) return null;
  const byRevision = new Map<string, string[]>();
  const texts = new Set<string>();
  for (const [id, rec] of Object.entries(recorded.revisions)) {
    if (rec.lifecycle === 'archived' || !rec.secret_versions) continue;
    const unpinned = Object.keys(rec.secret_versions).filter((text) =>
      classifyReferences(text).references.some((r) => r.kind === 'secret' && r.version === undefined),
    );
    if (unpinned.length === 0) continue;
    byRevision.set(id, unpinned);
    for (const t of unpinned) texts.add(t);
  }
  if (texts.size === 0) return null;
  const env = Object.fromEntries([...texts].map((t, i) => [`S${i}`, t]));
  const signal = AbortSignal.any([AbortSignal.timeout(CHECK_TIMEOUT_MS), ...(opts.signal ? [opts.signal] : [])]);
  const { versions } = await fetchReferences(env, {
    ...opts,
    signal,
    basePath: ['deployments', 0, 'revisions', 0, 'artifact', 'env'],
  });
  const out: Record<string, Record<string, string>> = {};
  for (const [id, list] of byRevision) {
    const now: Record<string, string> = {};
    for (const t of list) if (versions[t] !== undefined) now[t] = versions[t];
    out[id] = now;
  }
  return out;
}
