/**
 * What the cluster really runs for an environment, read from the objects themselves by label
 * (never from what the deployer remembers). A revision is present while its Deployment exists
 * and healthy when it runs more than 0 pods and they are all updated and available (a revision
 * parked at 0 by a replicas-mode split counts as healthy: bp scales it back when it gets
 * weight). A split comes from the HTTPRoute's backendRefs, or in replicas mode from the stable
 * Service's recorded split when every weighted revision runs its share of pods, and from the
 * real pod proportions otherwise (someone scaled or deleted a revision: drift).
 */
import type { DeployerEnvironment, Observation } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { apportion, effectiveSplit } from './apportion.js';
import type { KubeClient, KubeObject } from './client.js';
import { ANNOTATION, environmentSelector, LABEL, labelValue } from './names.js';
import { enforcedFrom } from './routing.js';
import { rolloutComplete } from './rollout.js';
import type { K8sSettings } from './settings.js';

const replicasOf = (d: KubeObject) => Number((d.spec as { replicas?: number } | undefined)?.replicas ?? 1);

export function revisionHealthy(d: KubeObject): boolean {
  const replicas = replicasOf(d);
  if (replicas === 0) return d.metadata.annotations?.[ANNOTATION.state] === 'parked';
  return rolloutComplete(d, replicas);
}

export async function observeEnvironment(
  kube: KubeClient,
  env: DeployerEnvironment,
  settings: K8sSettings,
): Promise<Observation> {
  const selector = environmentSelector(env.environment_id);
  const byRole = (objs: KubeObject[], role: string) => objs.filter((o) => o.metadata.labels?.[LABEL.role] === role);
  const [deployments, services, routes] = await Promise.all([
    kube.list('apps/v1', 'Deployment', selector),
    kube.list('v1', 'Service', selector),
    settings.traffic === 'gateway-api'
      ? kube.list('gateway.networking.k8s.io/v1', 'HTTPRoute', selector)
      : Promise.resolve([]),
  ]);
  const observation: Observation = { revisions: {}, splits: {} };
  for (const d of env.deployments)
    for (const r of d.revisions) observation.revisions[r.revision_id] = { present: false, healthy: false };
  const revisionDeployments = new Map<string, KubeObject>();
  for (const d of byRole(deployments, 'revision')) {
    const id = d.metadata.annotations?.[ANNOTATION.revisionId];
    if (!id) continue;
    revisionDeployments.set(id, d);
    observation.revisions[id] = { present: true, healthy: revisionHealthy(d) };
  }
  const routing = settings.traffic === 'gateway-api' ? byRole(routes, 'route') : byRole(services, 'stable');
  for (const obj of routing) {
    const deploymentId = obj.metadata.annotations?.[ANNOTATION.deploymentId];
    if (!deploymentId) continue;
    observation.splits[deploymentId] =
      settings.traffic === 'gateway-api'
        ? routeSplit(obj, byRole(services, 'revision'))
        : replicasSplit(obj, revisionDeployments, deploymentId);
  }
  return observation;
}

/** The weights the HTTPRoute really carries, backendRefs mapped back to revision ids. */
function routeSplit(route: KubeObject, revisionServices: KubeObject[]): SplitEntry[] {
  const idOf = new Map(revisionServices.map((s) => [s.metadata.name, s.metadata.annotations?.[ANNOTATION.revisionId]]));
  const rules =
    (route.spec as { rules?: Array<{ backendRefs?: Array<{ name: string; weight?: number }> }> } | undefined)?.rules ??
    [];
  return rules
    .flatMap((rule) => rule.backendRefs ?? [])
    .map((ref) => ({
      // A ref whose Service is gone keeps its name: visible as drift, never silently dropped.
      revision_id: idOf.get(ref.name) ?? ref.name,
      weight_bps: ref.weight ?? 1,
    }));
}

function replicasSplit(stable: KubeObject, revisions: Map<string, KubeObject>, deploymentId: string): SplitEntry[] {
  const enforced = enforcedFrom(stable);
  if (!enforced) return [];
  const expected = apportion(enforced.pool, enforced.split);
  const asEnforced = [...expected].every(([id, pods]) => {
    const d = revisions.get(id);
    return d !== undefined && replicasOf(d) === pods;
  });
  if (asEnforced) return enforced.split;
  // What the Service's selector really spreads traffic over, pod for pod.
  const selector = (stable.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
  const counts: Array<{ revision_id: string; pods: number }> = [];
  for (const [id, d] of revisions) {
    const labels =
      (d.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {};
    const selected = Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
    if (selected && d.metadata.labels?.[LABEL.deployment] === labelValue(deploymentId))
      counts.push({ revision_id: id, pods: replicasOf(d) });
  }
  return effectiveSplit(counts);
}
