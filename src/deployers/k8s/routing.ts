/**
 * Enforcing a deployment's split. `gateway-api`: one HTTPRoute whose backendRefs are the
 * revisions' Services with the weights. `replicas`: one stable Service over the weighted
 * revisions' pods, each revision scaled to its share of a pool (see apportion.ts); revisions
 * outside a multi-revision split are parked at 0 pods so they take no share.
 */
import type { DeployerDeployment, DeployerRevision } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { ProviderError } from '../../model/errors.js';
import { apportion } from './apportion.js';
import type { KubeClient, KubeObject } from './client.js';
import { deploymentManifest, httpRouteManifest, stableServiceManifest, type Owner, type RevisionState } from './manifests.js';
import { ANNOTATION, deploymentSelector, objectName } from './names.js';
import { rolloutComplete, waitForRollout } from './rollout.js';
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

export async function readEnforced(kube: KubeClient, deploymentId: string, settings: K8sSettings): Promise<Enforced | null> {
  const { apiVersion, kind } = routingObject(settings);
  return enforcedFrom(await kube.read(apiVersion, kind, objectName(deploymentId)));
}

/** Replicas mode: how many pods a revision should run under the enforced split. */
export function desiredReplicas(revision: DeployerRevision, enforced: Enforced | null, settings: K8sSettings): { replicas: number; state: RevisionState } {
  const base = revision.resources.replicas;
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

/** Writes the routing object for `split` (without scaling anything). */
export async function writeRouting(c: SplitContext, split: SplitEntry[], pool: number): Promise<void> {
  const manifest = c.settings.traffic === 'gateway-api'
    ? httpRouteManifest(c.owner, c.deployment, split, c.settings)
    : stableServiceManifest(c.owner, c.deployment, split, pool, c.settings);
  await c.kube.apply(manifest);
}

export async function applySplit(c: SplitContext, entries: SplitEntry[]): Promise<void> {
  const weighted = entries.filter((e) => e.weight_bps > 0);
  const live = new Map<string, KubeObject>();
  for (const d of await c.kube.list('apps/v1', 'Deployment', deploymentSelector(c.owner.environmentId, c.deployment.deployment_id, 'revision'))) {
    const id = d.metadata.annotations?.[ANNOTATION.revisionId];
    if (id) live.set(id, d);
  }
  // Refuse before changing anything: traffic only goes to revisions that were warmed.
  const cold = weighted.filter((e) => !live.has(e.revision_id) || live.get(e.revision_id)!.metadata.annotations?.[ANNOTATION.state] === 'drained');
  if (cold.length > 0) {
    throw new ProviderError(
      `split of "${c.deployment.deployment_id}" gives traffic to ${cold.map((e) => `"${e.revision_id}"`).join(', ')}, which ${cold.length > 1 ? 'are' : 'is'} not warm in namespace ${c.kube.namespace}; warm first`,
      { retryable: true },
    );
  }
  if (c.settings.traffic === 'gateway-api') {
    // Zero-weight refs are kept only while their Service exists, so no ref dangles.
    await writeRouting(c, entries.filter((e) => e.weight_bps > 0 || live.has(e.revision_id)), 0);
    return;
  }
  const pool = Math.max(1, ...weighted.map((e) => revisionOf(c.deployment, e.revision_id)?.resources.replicas ?? 1));
  const enforced: Enforced = { split: entries, pool };
  const growing: Array<{ revision: DeployerRevision; replicas: number; state: RevisionState }> = [];
  const shrinking: typeof growing = [];
  for (const [id, d] of live) {
    const revision = revisionOf(c.deployment, id);
    if (!revision || d.metadata.annotations?.[ANNOTATION.state] === 'drained') continue;
    const want = desiredReplicas(revision, enforced, c.settings);
    const have = Number((d.spec as { replicas?: number }).replicas ?? 1);
    const changes = want.replicas !== have || d.metadata.annotations?.[ANNOTATION.state] !== want.state;
    if (changes) (want.replicas >= have ? growing : shrinking).push({ revision, ...want });
  }
  // Grow first and wait, switch the Service, then shrink: capacity never dips mid-change.
  for (const g of growing) await c.kube.apply(deploymentManifest(c.owner, g.revision, c.settings, g.replicas, g.state));
  for (const g of growing) {
    const d = await c.kube.read('apps/v1', 'Deployment', objectName(g.revision.revision_id));
    if (d && rolloutComplete(d, g.replicas)) continue;
    await waitForRollout(c.kube, {
      name: objectName(g.revision.revision_id), revisionId: g.revision.revision_id, replicas: g.replicas,
      timeoutMs: c.settings.rolloutTimeoutMs, pollMs: c.settings.pollMs, signal: c.signal,
    });
  }
  await writeRouting(c, entries, pool);
  for (const s of shrinking) await c.kube.apply(deploymentManifest(c.owner, s.revision, c.settings, s.replicas, s.state));
}

/**
 * Takes a revision out of the enforced split (drain takes only a weighted one, as in a
 * teardown; archive also drops a zero-weight entry). Returns whether routing changed.
 */
export async function removeFromRouting(c: SplitContext, revisionId: string, alsoZeroWeight: boolean): Promise<boolean> {
  const enforced = await readEnforced(c.kube, c.deployment.deployment_id, c.settings);
  const entry = enforced?.split.find((e) => e.revision_id === revisionId);
  if (!enforced || !entry || (entry.weight_bps === 0 && !alsoZeroWeight)) return false;
  await writeRouting(c, enforced.split.filter((e) => e.revision_id !== revisionId), enforced.pool);
  return true;
}

/** Deletes the deployment's routing object once no revision of it is left (404 is fine). */
export async function releaseRoutingIfUnused(c: SplitContext): Promise<void> {
  const left = await c.kube.list('apps/v1', 'Deployment', deploymentSelector(c.owner.environmentId, c.deployment.deployment_id, 'revision'));
  if (left.length > 0) return;
  const { apiVersion, kind } = routingObject(c.settings);
  await c.kube.remove(apiVersion, kind, objectName(c.deployment.deployment_id));
}

function revisionOf(deployment: DeployerDeployment, id: string): DeployerRevision | undefined {
  return deployment.revisions.find((r) => r.revision_id === id);
}
