/**
 * The gcp-compute deployer: a managed instance group and backend service per revision, a URL
 * map per deployment whose weighted backend services are the split. Verbs check their
 * preconditions before any API call; verbs touching one deployment's URL map are serialized
 * in this process, and the map's fingerprint guards against writers elsewhere.
 */
import type { Deployer, DeployerEnvironment, Observation, SplitResult, StageResult } from '../kit/api.js';
import type { VerbOptions, WarmResult } from '../kit/api.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb, ProviderError } from '../kit/api.js';
import { SdkDeployer } from '../kit/sdk.js';
import { GceApi } from './api.js';
import type { Settings } from './config.js';
import { observeEnvironment } from './observe.js';
import { RevisionResources, targetOf } from './revision.js';
import { Routing } from './routing.js';
import { enforcedSplit } from './weights.js';
import { clientOptions, loadSdk, SdkClients } from './sdk.js';

export class GcpComputeDeployer extends SdkDeployer<Settings, SdkClients> implements Deployer {
  protected async createClients(): Promise<SdkClients> {
    return new SdkClients(await loadSdk(), clientOptions(this.config.project, this.config.endpoint));
  }

  protected override releaseClients(clients: SdkClients): Promise<void> {
    return clients.close();
  }

  private async api(): Promise<GceApi> {
    const { project, zone, operation_timeout_seconds } = this.config;
    return new GceApi(await this.clients(), project, zone, operation_timeout_seconds * 1000);
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    const api = await this.api();
    const outputs = await new RevisionResources(api, this.config).stage(
      targetOf(env.environment_id, deployment, revision),
      opts.signal,
    );
    return { outputs };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const api = await this.api();
    const target = targetOf(env.environment_id, deployment, revision);
    const result = await this.exclusive(`revision:${revisionId}`, () =>
      new RevisionResources(api, this.config).warm(target, opts),
    );
    this.logger.info(`gcp-compute: revision ${revisionId} is healthy behind ${target.names.backendService}`);
    return result;
  }

  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'draining');
    const api = await this.api();
    const target = targetOf(env.environment_id, deployment, revision);
    await this.exclusive(`revision:${revisionId}`, () => new RevisionResources(api, this.config).drain(target, opts));
    return {};
  }

  async archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'archiving');
    const api = await this.api();
    const target = targetOf(env.environment_id, deployment, revision);
    const routing = new Routing(api, this.config, env.environment_id);
    // The URL map must stop naming the backend service before the API lets it be deleted.
    await this.exclusive(`deployment:${deployment.deployment_id}`, () =>
      routing.remove(deployment.deployment_id, revisionId, target.names.backendService, opts.signal),
    );
    await this.exclusive(`revision:${revisionId}`, () =>
      new RevisionResources(api, this.config).archive(target, opts.signal),
    );
    return {};
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { deployment, entries } = beginSplitVerb(env, deploymentId, opts);
    const api = await this.api();
    const routed: Array<(typeof entries)[number] & { backendService: string }> = [];
    for (const e of entries) {
      const revision = deployment.revisions.find((r) => r.revision_id === e.revision_id)!;
      const name = targetOf(env.environment_id, deployment, revision).names.backendService;
      const service = await api.get('backendServices', name, opts.signal);
      const serving = ((service?.backends as unknown[] | undefined) ?? []).length > 0;
      if (e.weight_bps > 0 && !serving) {
        throw new ProviderError(
          `revision "${e.revision_id}" would get ${e.weight_bps} bps of "${deploymentId}" but has no backend service serving it; warm it first`,
          { retryable: true },
        );
      }
      // A URL map may only name backend services that exist; a weight-0 entry without one routes nothing anyway.
      if (service) routed.push({ ...e, backendService: name });
    }
    const routing = new Routing(api, this.config, env.environment_id);
    await this.exclusive(`deployment:${deploymentId}`, () => routing.apply(deployment, routed, opts.signal));
    // URL map weights are per mille: report (and let bp record) the split the balancer really enforces.
    return { applied_deployment_id: deploymentId, applied_entries: enforcedSplit(entries) };
  }

  async releaseRouting(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<void> {
    beginVerb(opts, `releasing the routing of "${deploymentId}"`);
    const routing = new Routing(await this.api(), this.config, env.environment_id);
    await this.exclusive(`deployment:${deploymentId}`, () => routing.releaseAll(deploymentId, opts.signal));
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    return observeEnvironment(await this.api(), env, opts.signal);
  }
}
