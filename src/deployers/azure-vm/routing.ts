/**
 * A deployment's routing: one Traffic Manager profile (routing method Weighted) whose
 * `azureEndpoints`, one per revision, target each revision's public IP. The whole profile is
 * written with one PUT, so a split changes atomically; the exact basis points bp applied and
 * each endpoint's revision id are kept in the profile's tags for `observe`.
 */
import type { Endpoint as TmEndpoint } from '@azure/arm-trafficmanager';
import type { DeployerDeployment } from '../../model/deployer.js';
import { RoutingNotReleasedError } from '../../model/errors.js';
import type { SplitEntry } from '../../model/environment.js';
import type { Settings } from './config.js';
import { arm, armOrNull } from './errors.js';
import { BPS_TAG, deploymentNames, REVISION_TAG, TAGS } from './names.js';
import type { AzureClients } from './sdk.js';
import { toTrafficManager } from './weights.js';

type Profile = NonNullable<Awaited<ReturnType<AzureClients['trafficManager']['profiles']['get']>>>;
type Endpoint = NonNullable<Profile['endpoints']>[number];

export const ENDPOINT_TYPE = 'Microsoft.Network/trafficManagerProfiles/azureEndpoints';

export interface RoutedEntry extends SplitEntry {
  /** Endpoint name (the revision's base name) and its target public IP id. */
  endpoint: string;
  targetResourceId: string;
  healthPath: string;
}

export class Routing {
  constructor(
    private readonly c: AzureClients,
    private readonly s: Settings,
    private readonly environmentId: string,
  ) {}

  private names(deploymentId: string) {
    return deploymentNames(`${this.s.subscription_id}/${this.s.resource_group}`, this.environmentId, deploymentId);
  }

  async get(deploymentId: string, signal: AbortSignal): Promise<Profile | null> {
    const name = this.names(deploymentId).profile;
    return armOrNull(`read Traffic Manager profile ${name}`, signal, () =>
      this.c.trafficManager.profiles.get(this.s.resource_group, name, { abortSignal: signal }),
    );
  }

  /** Makes the profile's endpoints exactly `entries` (weight 0: Disabled). */
  async apply(deployment: DeployerDeployment, entries: RoutedEntry[], signal: AbortSignal): Promise<void> {
    const weights = toTrafficManager(entries);
    const endpoints: Endpoint[] = entries.map((e, i) => ({
      name: e.endpoint,
      type: ENDPOINT_TYPE,
      targetResourceId: e.targetResourceId,
      weight: weights[i].weight,
      endpointStatus: weights[i].enabled ? 'Enabled' : 'Disabled',
    }));
    // Three fixed tags whatever the number of revisions (ARM allows 50 per resource).
    const current = await this.get(deployment.deployment_id, signal);
    const tags: Record<string, string> = {
      ...withoutEndpointTags(current?.tags),
      [TAGS.managedBy]: 'bp',
      [TAGS.environment]: this.environmentId,
      [TAGS.deployment]: deployment.deployment_id,
    };
    // Traffic Manager probes one path per profile: that of the revision taking the most traffic,
    // following the file (a new revision's path replaces the old one, or it would show Degraded).
    const path = [...entries].sort((a, b) => b.weight_bps - a.weight_bps)[0]?.healthPath ?? '/';
    if (
      current &&
      sameEndpoints(current.endpoints ?? [], endpoints) &&
      sameTags(current.tags, tags) &&
      current.monitorConfig?.path === path
    )
      return;
    await this.put(deployment.deployment_id, endpoints, tags, path, signal);
  }

  /** Sets one endpoint Disabled (0 bps); returns false when it was not Enabled. */
  async disable(deploymentId: string, endpoint: string, signal: AbortSignal): Promise<boolean> {
    const current = await this.get(deploymentId, signal);
    const e = current?.endpoints?.find((x: TmEndpoint) => x.name === endpoint);
    if (!current || !e || e.endpointStatus === 'Disabled') return false;
    const endpoints = (current.endpoints ?? []).map((x: TmEndpoint) =>
      x.name === endpoint ? { ...x, endpointStatus: 'Disabled' } : x,
    );
    await this.put(
      deploymentId,
      endpoints,
      withoutEndpointTags(current.tags),
      current.monitorConfig?.path ?? '/',
      signal,
    );
    return true;
  }

  /** Deletes the deployment's Traffic Manager profile (absent is fine). */
  async releaseAll(deploymentId: string, signal: AbortSignal): Promise<void> {
    const name = this.names(deploymentId).profile;
    await armOrNull(`delete Traffic Manager profile ${name}`, signal, () =>
      this.c.trafficManager.profiles.delete(this.s.resource_group, name, { abortSignal: signal }),
    );
  }

  /**
   * Drops one endpoint. Only releaseRouting deletes the profile (docs/design.md#traffic-rules):
   * dropping its last endpoint is refused before any write; bp releases the routing first.
   */
  async remove(deploymentId: string, revisionId: string, endpoint: string, signal: AbortSignal): Promise<void> {
    const current = await this.get(deploymentId, signal);
    if (!current) return;
    const left = (current.endpoints ?? []).filter((x: TmEndpoint) => x.name !== endpoint);
    if (left.length === (current.endpoints ?? []).length) return;
    if (left.length === 0) {
      throw new RoutingNotReleasedError(deploymentId, revisionId, `Traffic Manager profile ${current.name ?? ''}`);
    }
    await this.put(deploymentId, left, withoutEndpointTags(current.tags), current.monitorConfig?.path ?? '/', signal);
  }

  private async put(
    deploymentId: string,
    endpoints: Endpoint[],
    tags: Record<string, string>,
    path: string,
    signal: AbortSignal,
  ): Promise<void> {
    const names = this.names(deploymentId);
    await arm(`write Traffic Manager profile ${names.profile}`, signal, () =>
      this.c.trafficManager.profiles.createOrUpdate(
        this.s.resource_group,
        names.profile,
        {
          location: 'global',
          tags,
          profileStatus: 'Enabled',
          trafficRoutingMethod: 'Weighted',
          dnsConfig: { relativeName: names.dnsName, ttl: this.s.dns_ttl },
          monitorConfig: {
            protocol: 'HTTP',
            port: this.s.frontend_port,
            path,
            intervalInSeconds: 30,
            timeoutInSeconds: 10,
            toleratedNumberOfFailures: 3,
          },
          endpoints: endpoints.map((e) => ({
            name: e.name,
            type: ENDPOINT_TYPE,
            targetResourceId: e.targetResourceId,
            weight: e.weight,
            endpointStatus: e.endpointStatus,
          })),
        },
        { abortSignal: signal },
      ),
    );
  }
}

/** A profile's tags without the per-endpoint ones older versions wrote. */
function withoutEndpointTags(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags ?? {}).filter(([k]) => !k.startsWith(BPS_TAG) && !k.startsWith(REVISION_TAG)),
  );
}

function sameEndpoints(a: Endpoint[], b: Endpoint[]): boolean {
  const key = (xs: Endpoint[]) =>
    xs
      .map((e) => `${e.name}|${String(e.targetResourceId).toLowerCase()}|${e.weight}|${e.endpointStatus}`)
      .sort()
      .join(',');
  return key(a) === key(b);
}

function sameTags(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const key = (t: Record<string, string>) => JSON.stringify(Object.entries(t).sort(([x], [y]) => x.localeCompare(y)));
  return key(a ?? {}) === key(b);
}
