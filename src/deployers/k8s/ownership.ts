/**
 * Ownership before any write. Server-side apply with force takes any object of the same name,
 * whoever made it; so before bp applies or deletes an object it reads it and goes on only when
 * the object is absent or carries bp's label and the same environment, deployment and (for a
 * revision's objects) revision annotations. An object of another environment, or one bp never
 * made, is refused by name: bp never takes over or deletes what is not its own.
 */
import { ProviderError } from '../../model/errors.js';
import type { KubeClient, KubeObject } from './client.js';
import { ANNOTATION, LABEL } from './names.js';

/** Why `live` is not the object `wanted` describes, or null when it is (or is absent). */
export function foreignOwner(live: KubeObject | null, wanted: Pick<KubeObject, 'metadata'>): string | null {
  if (!live) return null;
  const have = live.metadata.annotations ?? {};
  const want = wanted.metadata.annotations ?? {};
  if (live.metadata.labels?.[LABEL.managedBy] !== 'bp' || have[ANNOTATION.environmentId] === undefined) {
    return 'was not created by bp';
  }
  const keys = [ANNOTATION.environmentId, ANNOTATION.deploymentId, ANNOTATION.revisionId] as const;
  const differs = keys.filter((k) => (have[k] ?? null) !== (want[k] ?? null));
  if (differs.length === 0) return null;
  const revision = have[ANNOTATION.revisionId] !== undefined ? `, revision "${have[ANNOTATION.revisionId]}"` : '';
  return `belongs to environment "${have[ANNOTATION.environmentId]}" (deployment "${have[ANNOTATION.deploymentId]}"${revision})`;
}

function refusal(
  kube: KubeClient,
  obj: Pick<KubeObject, 'kind' | 'metadata'>,
  why: string,
  verb: string,
): ProviderError {
  return new ProviderError(
    `${obj.kind} ${obj.metadata.name} in namespace ${kube.namespace} ${why}; bp will not ${verb} it ` +
      '(another environment or tool uses this name: use another namespace, environment id or id)',
    { retryable: false },
  );
}

/** Server-side applies `obj` after checking that its live namesake, if any, is the same object. */
export async function applyOwned(kube: KubeClient, obj: KubeObject): Promise<KubeObject> {
  const live = await kube.read(obj.apiVersion, obj.kind, obj.metadata.name);
  const why = foreignOwner(live, obj);
  if (why) throw refusal(kube, obj, why, 'change');
  return kube.apply(obj);
}

/** Checks every object first, then applies them in order: nothing is half-taken from another owner. */
export async function applyAllOwned(kube: KubeClient, objs: KubeObject[]): Promise<void> {
  for (const o of objs) {
    const why = foreignOwner(await kube.read(o.apiVersion, o.kind, o.metadata.name), o);
    if (why) throw refusal(kube, o, why, 'change');
  }
  for (const o of objs) await kube.apply(o);
}

/**
 * Applies a revision's immutable Secret (manifests.ts, secretManifest). A live one with other
 * data (a secret rotated in its store before this revision first warmed) cannot be changed,
 * only deleted: it is replaced. A revision without env needs none.
 */
export async function applyRevisionSecret(kube: KubeClient, secret: KubeObject): Promise<void> {
  const data = (secret.data ?? {}) as Record<string, string>;
  if (Object.keys(data).length === 0) return;
  const live = await kube.read(secret.apiVersion, secret.kind, secret.metadata.name);
  const why = foreignOwner(live, secret);
  if (why) throw refusal(kube, secret, why, 'change');
  const liveData = (live?.data ?? {}) as Record<string, string>;
  const same =
    Object.keys(liveData).length === Object.keys(data).length &&
    Object.entries(data).every(([k, v]) => liveData[k] === v);
  if (live && same && live.immutable === true) return;
  if (live) await kube.remove(secret.apiVersion, secret.kind, secret.metadata.name);
  await kube.apply(secret);
}

/**
 * Deletes the object when it is the one `expected` describes (its annotations); true when it
 * existed. One owned by anything else is left alone and reported as absent.
 */
export async function removeOwned(
  kube: KubeClient,
  apiVersion: string,
  kind: string,
  name: string,
  expected: Pick<KubeObject, 'metadata'>,
): Promise<boolean> {
  const live = await kube.read(apiVersion, kind, name);
  if (!live || foreignOwner(live, expected)) return false;
  return kube.remove(apiVersion, kind, name);
}
