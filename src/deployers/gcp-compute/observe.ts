/**
 * What Compute Engine really runs for one environment, found by the markers bp writes into
 * resource descriptions and the labels on VMs, never by what the deployer remembers: every
 * revision with any resource left is present; it is healthy when its group is at size, in its
 * backend service, and the balancer reports every VM healthy. Splits are read from URL maps.
 */
import type { DeployerEnvironment, Observation, ObservedRevision } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import type { GceApi, Json, KindName } from './api.js';
import { LABELS, labelValue, markerOf, REVISION_METADATA_KEY } from './names.js';
import { sameGroup } from './revision.js';
import { weightedServices } from './routing.js';
import { fromPerMille } from './weights.js';
import { mapBounded, OBSERVE_CONCURRENCY } from '../kit/bounded.js';

const REVISION_KINDS: KindName[] = ['instanceTemplates', 'healthChecks', 'instanceGroupManagers', 'backendServices'];

interface Found {
  group?: Json;
  service?: Json;
  instances: number;
}

export async function observeEnvironment(
  api: GceApi,
  env: DeployerEnvironment,
  signal: AbortSignal,
): Promise<Observation> {
  const environmentId = env.environment_id;
  const mine = (r: Json) => markerOf(r.description)?.environment === environmentId;
  const [lists, instances, urlMaps] = await Promise.all([
    Promise.all(REVISION_KINDS.map((k) => api.list(k, undefined, signal).then((rs) => rs.filter(mine)))),
    api.list('instances', `labels.${LABELS.environment} = "${labelValue(environmentId)}"`, signal),
    api.list('urlMaps', undefined, signal).then((rs) => rs.filter(mine)),
  ]);

  const found = new Map<string, Found>();
  const entry = (id: string) => {
    let f = found.get(id);
    if (!f) found.set(id, (f = { instances: 0 }));
    return f;
  };
  REVISION_KINDS.forEach((kind, i) => {
    for (const r of lists[i]) {
      const id = markerOf(r.description)?.revision;
      if (!id) continue;
      const f = entry(id);
      if (kind === 'instanceGroupManagers') f.group = r;
      if (kind === 'backendServices') f.service = r;
    }
  });
  for (const vm of instances) {
    const items = (vm.metadata as { items?: Array<{ key: string; value: string }> } | undefined)?.items ?? [];
    const id = items.find((x) => x.key === REVISION_METADATA_KEY)?.value;
    if (id) entry(id).instances++;
  }

  const observation: Observation = { revisions: {}, splits: {} };
  for (const d of env.deployments) {
    for (const r of d.revisions) observation.revisions[r.revision_id] = { present: false, healthy: false };
  }
  const wanted = new Map(
    env.deployments.flatMap((d) => d.revisions.map((r) => [r.revision_id, r.resources.replicas] as const)),
  );
  // Backend service health has no list form: one getHealth per revision, bounded.
  await mapBounded([...found], OBSERVE_CONCURRENCY, async ([id, f]) => {
    observation.revisions[id] = await revisionStatus(api, f, wanted.get(id), signal);
  });

  const revisionOfService = new Map(
    lists[3].map((s) => [String(s.name), markerOf(s.description)?.revision ?? String(s.name)]),
  );
  for (const map of urlMaps) {
    const m = markerOf(map.description);
    if (m) observation.splits[m.deployment] = splitOf(map, revisionOfService);
  }
  return observation;
}

async function revisionStatus(
  api: GceApi,
  f: Found,
  replicas: number | undefined,
  signal: AbortSignal,
): Promise<ObservedRevision> {
  const size = Number(f.group?.targetSize ?? 0);
  const groupLink = String(f.group?.instanceGroup ?? '');
  const inService = ((f.service?.backends as Array<{ group?: string }> | undefined) ?? []).some((b) =>
    sameGroup(b.group, groupLink),
  );
  if (!f.group || !f.service || size < 1 || !inService || (replicas !== undefined && size < Math.max(1, replicas))) {
    return { present: true, healthy: false };
  }
  const health = await api.getHealth(String(f.service.name), groupLink, signal);
  const healthy = health.filter((h) => h.healthState === 'HEALTHY').length;
  return { present: true, healthy: healthy >= size && f.instances >= size };
}

/**
 * The split the URL map enforces, in basis points: its per-mille weights as the balancer
 * sends traffic (so 9995/5 asked shows as 9990/10, as applied; a change made outside bp shows
 * as drift).
 */
function splitOf(map: Json, revisionOfService: Map<string, string>): SplitEntry[] {
  const wire = weightedServices(map);
  const ids = wire.map((w) => {
    const name = w.backendService.split('/').pop() as string;
    return revisionOfService.get(name) ?? name;
  });
  const bps = fromPerMille(wire.map((w) => w.weight));
  return ids.map((id, i) => ({ revision_id: id, weight_bps: bps[i] }));
}
