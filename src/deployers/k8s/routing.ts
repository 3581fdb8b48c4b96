/**
 * Enforcing a deployment's split. `gateway-api`: one HTTPRoute whose backendRefs are the
 * revisions' Services with the weights. `replicas`: one stable Service over the weighted
 * revisions' pods, each revision scaled to its share of a pool (see apportion.ts) one pod at a
 * time (transition.ts); revisions outside a multi-revision split, and revisions leaving the
 * split, are parked at 0 pods so they take no share. Only releaseRouting deletes the routing
 * object (docs/design.md#traffic-rules).
 */
import type { DeployerDeployment, DeployerRevision } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { ProviderError, RoutingNotReleasedError } from '../../model/errors.js';
import { apportion } from './apportion.js';
import type { KubeClient, KubeObject } from './client.js';
import {
  deploymentManifest,
  httpRouteManifest,
  identityOf,
  stableServiceManifest,
  type Owner,
  type RevisionState,
} from './manifests.js';
import { ANNOTATION, deploymentSelector, LABEL, objectName } from './names.js';
import { applyOwned, removeOwned } from './ownership.js';
import { rolloutComplete, waitForRollout } from './rollout.js';
import { transitionSteps, type Counts } from './transition.js';
import type { K8sSettings } from './settings.js';

export interface Enforced {
  split: SplitEntry[];
  pool: number;
}

export function routingObject(settings: K8sSettings): { apiVersion: string; kind: string } {
  return settings.traffic === 'gateway-api'
    ? { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' }
    : { apiVersion: 'v1', kind: 'Service' };
}

export function enforcedFrom(obj: KubeObject | null): Enforced | null {
  const raw = obj?.metadata.annotations?.[ANNOTATION.split];
  if (!obj || raw === undefined) return null;
  try {
    const split = JSON.parse(raw) as SplitEntry[];
    return { split, pool: Number(obj.metadata.annotations?.[ANNOTATION.pool] ?? 1) };
  } catch {
    return null;
  }
}

export async function readRouting(kube: KubeClient, owner: Owner, settings: K8sSettings): Promise<KubeObject | null> {
  const { apiVersion, kind } = routingObject(settings);
  const obj = await kube.read(apiVersion, kind, objectName(owner.environmentId, owner.deploymentId));
  // Another environment's object of the same name is not ours to read a split from.
  const mine = identityOf(owner).metadata.annotations!;
  const have = obj?.metadata.annotations ?? {};
  return obj &&
    have[ANNOTATION.environmentId] === mine[ANNOTATION.environmentId] &&
    have[ANNOTATION.deploymentId] === mine[ANNOTATION.deploymentId]
    ? obj
    : null;
}

export async function readEnforced(kube: KubeClient, owner: Owner, settings: K8sSettings): Promise<Enforced | null> {
  return enforcedFrom(await readRouting(kube, owner, settings));
}

/**
 * How many pods a revision should run under the enforced split; null when its HPA decides
 * (gateway-api mode with max_replicas: validate refuses autoscaling in replicas mode).
 */
export function desiredReplicas(
  revision: DeployerRevision,
  enforced: Enforced | null,
  settings: K8sSettings,
): { replicas: number | null; state: RevisionState } {
  const base = revision.resources.replicas;
  if (settings.traffic !== 'replicas' && revision.resources.max_replicas !== undefined)
    return { replicas: null, state: 'serving' };
  if (settings.traffic !== 'replicas' || !enforced) return { replicas: base, state: 'serving' };
  const counts = apportion(enforced.pool, enforced.split);
  const mine = counts.get(revision.revision_id);
  if (mine !== undefined) return { replicas: mine, state: 'serving' };
  return counts.size > 1 ? { replicas: 0, state: 'parked' } : { replicas: base, state: 'serving' };
}

export interface SplitContext {
  kube: KubeClient;
  owner: Owner;
  deployment: DeployerDeployment;
  settings: K8sSettings;
  signal: AbortSignal;
}

/**
 * Writes the routing object for `split` (without scaling anything); callers never pass a split
 * with no weighted entry (a split sums to 10000; removeFromRouting keeps one). `selectAll`:
 * replicas mode mid-transition, the stable Service selects every revision of the deployment.
 */
export async function writeRouting(
  c: SplitContext,
  split: SplitEntry[],
  pool: number,
  selectAll = false,
): Promise<void> {
  const manifest =
    c.settings.traffic === 'gateway-api'
      ? httpRouteManifest(c.owner, c.deployment, split, c.settings)
      : stableServiceManifest(c.owner, c.deployment, split, pool, c.settings, selectAll);
  await applyOwned(c.kube, manifest);
}

export async function applySplit(c: SplitContext, entries: SplitEntry[]): Promise<void> {
  const weighted = entries.filter((e) => e.weight_bps > 0);
  const live = new Map<string, KubeObject>();
  for (const d of await c.kube.list(
    'apps/v1',
    'Deployment',
    deploymentSelector(c.owner.environmentId, c.deployment.deployment_id, 'revision'),
  )) {
    const id = d.metadata.annotations?.[ANNOTATION.revisionId];
    if (id && d.metadata.annotations?.[ANNOTATION.environmentId] === c.owner.environmentId) live.set(id, d);
  }
  // Refuse before changing anything: traffic only goes to revisions that were warmed.
  const cold = weighted.filter(
    (e) => !live.has(e.revision_id) || live.get(e.revision_id)!.metadata.annotations?.[ANNOTATION.state] === 'drained',
  );
  if (cold.length > 0) {
    throw new ProviderError(
      `split of "${c.deployment.deployment_id}" gives traffic to ${cold.map((e) => `"${e.revision_id}"`).join(', ')}, which ${cold.length > 1 ? 'are' : 'is'} not warm in namespace ${c.kube.namespace}; warm first`,
      { retryable: true },
    );
  }
  if (c.settings.traffic === 'gateway-api') {
    // Zero-weight refs are kept only while their Service exists, so no ref dangles.
    await writeRouting(
      c,
      entries.filter((e) => e.weight_bps > 0 || live.has(e.revision_id)),
      0,
    );
    return;
  }
  await applyReplicasSplit(c, entries, live);
}

/** The stable Service's selection: one revision, every revision (several weighted), or none yet. */
function selectionOf(stable: KubeObject | null): { revision: string | null } | null {
  if (!stable) return null;
  const selector = (stable.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
  return { revision: selector[LABEL.revision] ?? null };
}

async function applyReplicasSplit(
  c: SplitContext,
  entries: SplitEntry[],
  live: Map<string, KubeObject>,
): Promise<void> {
  const weighted = entries.filter((e) => e.weight_bps > 0);
  const pool = Math.max(1, ...weighted.map((e) => revisionOf(c.deployment, e.revision_id)?.resources.replicas ?? 1));
  const stable = await readRouting(c.kube, c.owner, c.settings);
  const old = enforcedFrom(stable);
  const oldWeighted = new Set((old?.split ?? []).filter((e) => e.weight_bps > 0).map((e) => e.revision_id));
  const target = apportion(pool, entries);
  const now: Counts = {};
  const final: Counts = {};
  const serving = new Map<string, DeployerRevision>();
  for (const [id, d] of live) {
    const revision = revisionOf(c.deployment, id);
    if (!revision || d.metadata.annotations?.[ANNOTATION.state] === 'drained') continue;
    serving.set(id, revision);
    now[id] = Number((d.spec as { replicas?: number }).replicas ?? 1);
    // Outside the split: parked when others share traffic or when it just left the split (no
    // scale-up before its drain); a warm standby beside one serving revision keeps its pods.
    final[id] = target.get(id) ?? (target.size > 1 || oldWeighted.has(id) ? 0 : now[id]);
  }
  const scale = async (id: string, replicas: number) => {
    const state: RevisionState = replicas > 0 ? 'serving' : 'parked';
    const d = live.get(id)!;
    const same =
      Number((d.spec as { replicas?: number }).replicas ?? 1) === replicas &&
      d.metadata.annotations?.[ANNOTATION.state] === state;
    if (!same)
      live.set(
        id,
        await applyOwned(c.kube, deploymentManifest(c.owner, serving.get(id)!, c.settings, replicas, state)),
      );
    now[id] = replicas;
    if (replicas > 0 && !rolloutComplete(live.get(id)!, replicas)) {
      live.set(
        id,
        await waitForRollout(c.kube, {
          name: objectName(c.owner.environmentId, id),
          revisionId: id,
          replicas,
          timeoutMs: c.settings.rolloutTimeoutMs,
          pollMs: c.settings.pollMs,
          signal: c.signal,
        }),
      );
    }
  };
  const selected = selectionOf(stable);
  const finalRevision = weighted.length === 1 ? weighted[0].revision_id : null;
  if (selected === null) {
    // No traffic yet: scale straight to the targets, then create the Service.
    for (const id of Object.keys(final)) await scale(id, final[id]);
    await writeRouting(c, entries, pool);
    return;
  }
  const alone =
    selected.revision === null
      ? null
      : ([...serving.keys()].find((id) => labelOf(live.get(id)!) === selected.revision) ?? null);
  if (alone !== null && alone === finalRevision) {
    // The Service keeps selecting one revision: only its pod count carries traffic.
    for (const id of Object.keys(final)) if (id !== alone) await scale(id, final[id]);
    await scale(alone, final[alone]);
    await writeRouting(c, entries, pool);
    return;
  }
  if (selected.revision !== null) {
    // Before the Service widens, revisions it did not select may bring at most one pod each.
    for (const id of Object.keys(final))
      if (id !== alone && now[id] > Math.min(final[id], 1)) await scale(id, Math.min(final[id], 1));
    await writeRouting(c, old?.split ?? entries, old?.pool ?? pool, true);
  }
  for (const step of transitionSteps({ ...now }, final)) await scale(step.revision, step.replicas);
  await writeRouting(c, entries, pool);
}

function labelOf(d: KubeObject): string | undefined {
  return d.metadata.labels?.[LABEL.revision];
}

/**
 * Takes a revision out of the enforced split (drain takes only a weighted one, as in a
 * teardown; archive also drops a zero-weight entry). Returns whether routing changed. Only
 * releaseRouting deletes the routing object (docs/design.md#traffic-rules): when no weighted
 * entry would be left, a drain leaves the object as it is (the revision's pods go to 0) and an
 * archive refuses before any write; bp releases the routing first.
 */
export async function removeFromRouting(
  c: SplitContext,
  revisionId: string,
  verb: 'drain' | 'archive',
): Promise<boolean> {
  const enforced = await readEnforced(c.kube, c.owner, c.settings);
  const entry = enforced?.split.find((e) => e.revision_id === revisionId);
  if (!enforced || !entry || (entry.weight_bps === 0 && verb === 'drain')) return false;
  const left = enforced.split.filter((e) => e.revision_id !== revisionId);
  if (!left.some((e) => e.weight_bps > 0)) {
    if (verb === 'drain') return false;
    const { kind } = routingObject(c.settings);
    const name = objectName(c.owner.environmentId, c.deployment.deployment_id);
    throw new RoutingNotReleasedError(c.deployment.deployment_id, revisionId, `${kind} ${c.kube.namespace}/${name}`);
  }
  await writeRouting(c, left, enforced.pool);
  return true;
}

/** Deletes the deployment's routing object (404 is fine); bp calls it before archiving the last revision. */
export async function releaseRouting(c: SplitContext): Promise<void> {
  const { apiVersion, kind } = routingObject(c.settings);
  await removeOwned(
    c.kube,
    apiVersion,
    kind,
    objectName(c.owner.environmentId, c.deployment.deployment_id),
    identityOf(c.owner),
  );
}

function revisionOf(deployment: DeployerDeployment, id: string): DeployerRevision | undefined {
  return deployment.revisions.find((r) => r.revision_id === id);
}
