/**
 * A deployment's routing: a URL map whose `defaultRouteAction.weightedBackendServices` is the
 * split, fronted (unless `frontend: false`) by a target HTTP proxy and a global forwarding
 * rule on the deployment's `listen` port. URL map updates carry the fingerprint last read, so
 * a concurrent change is refused (412) and re-read rather than overwritten.
 */
import type { DeployerDeployment } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import { ProviderError, RoutingNotReleasedError } from '../../model/errors.js';
import { sleep } from '../kit/abort.js';
import type { GceApi, Json } from './api.js';
import type { Settings } from './config.js';
import { failureOf } from './errors.js';
import { deploymentNames, describe, type DeploymentNames } from './names.js';
import { toPerMille } from './weights.js';

const FINGERPRINT_ATTEMPTS = 5;

export interface WeightedService {
  backendService: string;
  weight: number;
}

export function weightedServices(map: Json | null): WeightedService[] {
  const action = map?.defaultRouteAction as { weightedBackendServices?: WeightedService[] } | undefined;
  return (action?.weightedBackendServices ?? []).map((w) => ({
    backendService: w.backendService,
    weight: Number(w.weight ?? 0),
  }));
}

export class Routing {
  constructor(
    private readonly api: GceApi,
    private readonly settings: Settings,
    private readonly environmentId: string,
  ) {}

  names(deploymentId: string): DeploymentNames {
    return deploymentNames(this.environmentId, deploymentId);
  }

  /** Sets the split (entries whose backend service exists) and makes sure the frontend exists. */
  async apply(
    deployment: DeployerDeployment,
    entries: Array<SplitEntry & { backendService: string }>,
    signal: AbortSignal,
  ): Promise<void> {
    const names = this.names(deployment.deployment_id);
    const perMille = toPerMille(entries);
    const weighted = entries.map((e, i) => ({
      backendService: this.api.link('backendServices', e.backendService),
      weight: perMille[i],
    }));
    // The split is not copied into the description (at most 2,048 characters): the weights are the record.
    const description = describe({ environment: this.environmentId, deployment: deployment.deployment_id });
    await this.changeUrlMap(names.urlMap, signal, () => ({
      description,
      defaultRouteAction: { weightedBackendServices: weighted },
    }));
    if (this.settings.frontend) await this.ensureFrontend(deployment, names, signal);
  }

  /**
   * Drops a backend service from the split. Only releaseRouting deletes the URL map
   * (docs/design.md#traffic-rules): the API refuses an empty map, so dropping the map's last
   * backend is refused (before any write); bp releases the routing first.
   */
  async remove(deploymentId: string, revisionId: string, backendService: string, signal: AbortSignal): Promise<void> {
    const names = this.names(deploymentId);
    await this.changeUrlMap(names.urlMap, signal, (current) => {
      if (!current) return null;
      const left = weightedServices(current).filter(
        (w) => !w.backendService.endsWith(`/backendServices/${backendService}`),
      );
      if (left.length === weightedServices(current).length) return null;
      if (left.length === 0) throw new RoutingNotReleasedError(deploymentId, revisionId, `URL map ${names.urlMap}`);
      return { description: current.description, defaultRouteAction: { weightedBackendServices: left } };
    });
  }

  /** Deletes the deployment's forwarding rule, proxy and URL map (each absent is fine). */
  async releaseAll(deploymentId: string, signal: AbortSignal): Promise<void> {
    const names = this.names(deploymentId);
    await this.api.delete('forwardingRules', names.forwardingRule, signal);
    await this.api.delete('targetHttpProxies', names.proxy, signal);
    await this.api.delete('urlMaps', names.urlMap, signal);
  }

  /** Read-modify-write of a URL map under its fingerprint; `change` returns null for "no change". */
  private async changeUrlMap(
    name: string,
    signal: AbortSignal,
    change: (current: Json | null) => Json | null,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.api.get('urlMaps', name, signal);
      const next = change(current);
      if (!next) return;
      if (current && sameMap(current, next)) return;
      try {
        if (!current) {
          if (await this.api.insert('urlMaps', { name, ...next }, signal)) return;
        } else {
          await this.api.update('urlMaps', name, { name, fingerprint: current.fingerprint, ...next }, signal);
          return;
        }
      } catch (e) {
        const cause = (e as { cause?: unknown }).cause;
        if (failureOf(cause ?? e).reason !== 'conditionNotMet' || attempt >= FINGERPRINT_ATTEMPTS) throw e;
      }
      if (attempt >= FINGERPRINT_ATTEMPTS) {
        throw new ProviderError(`URL map ${name} kept changing while bp updated it`, { retryable: true });
      }
      await sleep(50 * attempt, signal, `updating URL map ${name}`);
    }
  }

  private async ensureFrontend(
    deployment: DeployerDeployment,
    names: DeploymentNames,
    signal: AbortSignal,
  ): Promise<void> {
    const mark = describe({ environment: this.environmentId, deployment: deployment.deployment_id });
    if (!(await this.api.get('targetHttpProxies', names.proxy, signal))) {
      await this.api.insert(
        'targetHttpProxies',
        { name: names.proxy, description: mark, urlMap: this.api.link('urlMaps', names.urlMap) },
        signal,
      );
    }
    if (!(await this.api.get('forwardingRules', names.forwardingRule, signal))) {
      await this.api.insert(
        'forwardingRules',
        {
          name: names.forwardingRule,
          description: mark,
          IPProtocol: 'TCP',
          portRange: String(listenPort(deployment.listen) ?? this.settings.frontend_port),
          target: this.api.link('targetHttpProxies', names.proxy),
          loadBalancingScheme: this.settings.load_balancing_scheme,
          ...(this.settings.load_balancing_scheme === 'INTERNAL_SELF_MANAGED'
            ? { network: this.settings.network, IPAddress: '0.0.0.0' }
            : {}),
        },
        signal,
      );
    }
  }

  /** `http://IP:PORT` of the deployment's forwarding rule, when it has one. */
  async frontendAddress(deploymentId: string, signal: AbortSignal): Promise<string | null> {
    const rule = await this.api.get('forwardingRules', this.names(deploymentId).forwardingRule, signal);
    return rule?.IPAddress ? `http://${String(rule.IPAddress)}:${String(rule.portRange ?? '').split('-')[0]}` : null;
  }
}

/** The port of `listen` (`host:port` or `[v6]:port`); the host is the balancer's, not bp's. */
export function listenPort(listen: string | null): number | null {
  const m = listen ? /:(\d+)$/.exec(listen) : null;
  return m ? Number(m[1]) : null;
}

function sameMap(current: Json, next: Json): boolean {
  const norm = (ws: WeightedService[]) =>
    ws.map((w) => `${w.backendService.replace(/^.*\/projects\//, '')}=${w.weight}`).join(',');
  return current.description === next.description && norm(weightedServices(current)) === norm(weightedServices(next));
}
