/**
 * Traffic Manager profiles (API 2022-04-01): synchronous PUT/DELETE (no async operation), a
 * profile's endpoints inline in `properties.endpoints`, weights 1..1000, and monitor status
 * computed from the target's load-balancer health. BEHAVIOUR.md cites the reference.
 */
import type { ResourceType } from './resources.js';
import { ArmError, type ArmResource, type Json } from './store.js';

const ENDPOINT_TYPES = ['azureEndpoints', 'externalEndpoints', 'nestedEndpoints'];
const METHODS = ['Performance', 'Priority', 'Weighted', 'Geographic', 'MultiValue', 'Subnet'];
const bad = (message: string) => new ArmError(400, 'BadRequest', message);

export interface Endpoint {
  id: string;
  name: string;
  type: string;
  properties: Json & { targetResourceId?: string; weight?: number; endpointStatus?: string };
}

export function endpointsOf(profile: ArmResource): Endpoint[] {
  return (profile.properties.endpoints as Endpoint[] | undefined) ?? [];
}

function checkEndpoint(e: Endpoint, profileId: string, lookup: (id: string) => ArmResource | undefined): Endpoint {
  const kind =
    String(e.type ?? '')
      .split('/')
      .pop() ?? '';
  if (!ENDPOINT_TYPES.includes(kind)) throw bad(`The endpoint type '${String(e.type)}' is not valid.`);
  if (!e.name || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/.test(e.name))
    throw bad(`The endpoint name '${String(e.name)}' is not valid.`);
  const p = { ...(e.properties ?? {}) };
  const weight = p.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 1 || weight > 1000) {
    throw bad(`The weight of endpoint '${e.name}' must be an integer between 1 and 1000.`);
  }
  p.weight = weight;
  p.endpointStatus = p.endpointStatus ?? 'Enabled';
  if (!['Enabled', 'Disabled'].includes(String(p.endpointStatus)))
    throw bad(`The endpointStatus '${String(p.endpointStatus)}' is not valid.`);
  if (kind === 'azureEndpoints') {
    const target = p.targetResourceId ? lookup(p.targetResourceId) : undefined;
    if (!target)
      throw bad(`The target resource '${String(p.targetResourceId)}' of endpoint '${e.name}' does not exist.`);
    const fqdn = (target.properties.dnsSettings as { fqdn?: string } | undefined)?.fqdn;
    if (!fqdn)
      throw bad(
        `The target resource of endpoint '${e.name}' is a public IP address without a DNS name; assign one (dnsSettings.domainNameLabel) to use it in Traffic Manager.`,
      );
    p.target = fqdn;
    p.endpointLocation = target.location;
  }
  return {
    id: `${profileId}/${kind}/${e.name}`,
    name: e.name,
    type: `Microsoft.Network/trafficManagerProfiles/${kind}`,
    properties: p,
  };
}

export const trafficManagerProfile: ResourceType = {
  type: 'Microsoft.Network/trafficManagerProfiles',
  longRunning: false,
  // ProfileListResult (API 2022-04-01) has `value` only: the service lists every profile at once.
  unpaged: true,
  build(id, name, body, existing, ctx) {
    const p = structuredClone((body.properties as Json | undefined) ?? {});
    if (!METHODS.includes(String(p.trafficRoutingMethod)))
      throw bad(`The traffic routing method '${String(p.trafficRoutingMethod)}' is not valid.`);
    const dns = (p.dnsConfig ?? {}) as { relativeName?: string; ttl?: number };
    if (!dns.relativeName || !/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/i.test(dns.relativeName))
      throw bad(`The relative DNS name '${String(dns.relativeName)}' is not valid.`);
    const taken = ctx.store
      .list(this.type)
      .find(
        (o) =>
          o.id.toLowerCase() !== id.toLowerCase() &&
          String((o.properties.dnsConfig as { relativeName?: string }).relativeName).toLowerCase() ===
            dns.relativeName!.toLowerCase(),
      );
    if (taken)
      throw new ArmError(
        409,
        'Conflict',
        `The domain name '${dns.relativeName}.trafficmanager.net' is already in use. Please choose a different name.`,
      );
    p.dnsConfig = {
      relativeName: dns.relativeName,
      ttl: dns.ttl ?? 60,
      fqdn: `${dns.relativeName.toLowerCase()}.trafficmanager.net`,
    };
    const monitor = (p.monitorConfig ?? {}) as Json;
    if (!['HTTP', 'HTTPS', 'TCP'].includes(String(monitor.protocol ?? 'HTTP')))
      throw bad(`The monitor protocol '${String(monitor.protocol)}' is not valid.`);
    p.monitorConfig = {
      protocol: 'HTTP',
      port: 80,
      path: '/',
      intervalInSeconds: 30,
      timeoutInSeconds: 10,
      toleratedNumberOfFailures: 3,
      ...monitor,
    };
    const endpoints = ((p.endpoints as Endpoint[] | undefined) ?? []).map((e) =>
      checkEndpoint(e, id, (x) => ctx.store.get(x)),
    );
    if (endpoints.length > 200) throw bad('A profile can have at most 200 endpoints.');
    if (new Set(endpoints.map((e) => e.name.toLowerCase())).size !== endpoints.length)
      throw bad('Endpoint names must be unique within a profile.');
    p.endpoints = endpoints;
    p.profileStatus = p.profileStatus ?? 'Enabled';
    return {
      id,
      name,
      type: this.type,
      location: 'global',
      tags: (body.tags as Record<string, string> | undefined) ?? {},
      properties: p,
    };
  },
  view(r, ctx) {
    const view = structuredClone(r);
    const endpoints = endpointsOf(view);
    for (const e of endpoints) {
      e.properties.endpointMonitorStatus = ctx.guests.endpointMonitorStatus(
        e.properties.targetResourceId,
        e.properties.endpointStatus === 'Enabled',
      );
    }
    const statuses = endpoints.map((e) => e.properties.endpointMonitorStatus);
    (view.properties.monitorConfig as Json).profileMonitorStatus =
      view.properties.profileStatus === 'Disabled'
        ? 'Disabled'
        : statuses.includes('Online')
          ? 'Online'
          : statuses.some((s) => s !== 'Disabled')
            ? 'Degraded'
            : 'Inactive';
    return view;
  },
};

/** `PATCH …/trafficmanagerprofiles/P/azureEndpoints/E`: merges weight/status into one endpoint. */
export function patchEndpoint(
  profile: ArmResource,
  kind: string,
  name: string,
  body: Json,
  lookup: (id: string) => ArmResource | undefined,
): Endpoint {
  const endpoints = endpointsOf(profile);
  const i = endpoints.findIndex(
    (e) => e.name.toLowerCase() === name.toLowerCase() && e.type.toLowerCase().endsWith(`/${kind.toLowerCase()}`),
  );
  if (i < 0) throw new ArmError(404, 'NotFound', `The endpoint '${name}' was not found in profile '${profile.name}'.`);
  const merged = {
    ...endpoints[i],
    properties: { ...endpoints[i].properties, ...((body.properties as Json | undefined) ?? {}) },
  };
  endpoints[i] = checkEndpoint(merged, profile.id, lookup);
  return endpoints[i];
}
