/**
 * The azure-vm deployer: per revision a public IP, a Standard load balancer and `replicas`
 * VMs; per deployment a Traffic Manager profile whose weighted endpoints are the split. Verbs
 * check their preconditions before any API call; verbs touching one deployment's profile are
 * serialized in this process (a profile is written whole, with one PUT).
 */
import type { Deployer, DeployerEnvironment, Observation, SplitResult, StageResult } from '../kit/api.js';
import type { VerbOptions, WarmResult } from '../kit/api.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb, ProviderError, waitOutDrain } from '../kit/api.js';
import { SdkDeployer } from '../kit/sdk.js';
import type { Settings } from './config.js';
import { armOrNull } from './errors.js';
import { observeEnvironment } from './observe.js';
import { RevisionResources } from './revision.js';
import { Routing, type RoutedEntry } from './routing.js';
import { createClients, type AzureClients } from './sdk.js';
import { enforcedSplit } from './weights.js';

export class AzureVmDeployer extends SdkDeployer<Settings, AzureClients> implements Deployer {
  protected createClients(): Promise<AzureClients> {
    return createClients(this.config);
  }

  private async api(): Promise<{ c: AzureClients; revisions: RevisionResources }> {
    const c = await this.clients();
    return { c, revisions: new RevisionResources(c, this.config) };
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    const { revisions } = await this.api();
    return { outputs: await revisions.stage(revisions.target(env.environment_id, deployment, revision), opts.signal) };
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    const { revisions } = await this.api();
    const t = revisions.target(env.environment_id, deployment, revision);
    const result = await this.exclusive(`revision:${revisionId}`, () => revisions.warm(t, opts));
    this.logger.info(`azure-vm: revision ${revisionId} is healthy behind ${t.names.loadBalancer}`);
    return result;
  }

  /**
   * Disables the revision's Traffic Manager endpoint, waits `drain_seconds` (resolvers keep
   * the old answer for up to the profile's DNS TTL, and open connections finish), then
   * deallocates its VMs. A repeated drain finds nothing to do.
   */
  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'draining');
    const { signal } = opts;
    const { c, revisions } = await this.api();
    const t = revisions.target(env.environment_id, deployment, revision);
    const routing = new Routing(c, this.config, env.environment_id);
    const disabled = await this.exclusive(`deployment:${deployment.deployment_id}`, () =>
      routing.disable(deployment.deployment_id, t.names.base, signal),
    );
    if (disabled)
      await waitOutDrain(revision, opts, {
        what: `resolvers and open connections to leave "${revisionId}" (Traffic Manager endpoint disabled)`,
      });
    await this.exclusive(`revision:${revisionId}`, () => revisions.deallocate(t, signal));
    return {};
  }

  async archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'archiving');
    const { signal } = opts;
    const { c, revisions } = await this.api();
    const t = revisions.target(env.environment_id, deployment, revision);
    const routing = new Routing(c, this.config, env.environment_id);
    await this.exclusive(`deployment:${deployment.deployment_id}`, () =>
      routing.remove(deployment.deployment_id, revisionId, t.names.base, signal),
    );
    await this.exclusive(`revision:${revisionId}`, () => revisions.archive(t, signal));
    return {};
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { deployment, entries } = beginSplitVerb(env, deploymentId, opts);
    const { signal } = opts;
    const { c, revisions } = await this.api();
    const routed: RoutedEntry[] = [];
    for (const e of entries) {
      const revision = deployment.revisions.find((r) => r.revision_id === e.revision_id)!;
      const t = revisions.target(env.environment_id, deployment, revision);
      const ip = await armOrNull(`read public IP ${t.names.publicIp}`, signal, () =>
        c.network.publicIPAddresses.get(this.config.resource_group, t.names.publicIp, { abortSignal: signal }),
      );
      const serving = !!ip?.dnsSettings?.fqdn && ip.provisioningState === 'Succeeded';
      if (e.weight_bps > 0 && !serving) {
        throw new ProviderError(
          `revision "${e.revision_id}" would get ${e.weight_bps} bps of "${deploymentId}" but has no public IP serving it; warm it first`,
          { retryable: true },
        );
      }
      // An endpoint must target an existing IP; a weight-0 entry without one routes nothing anyway.
      if (serving) {
        routed.push({
          ...e,
          endpoint: t.names.base,
          targetResourceId: revisions.id('Microsoft.Network/publicIPAddresses', t.names.publicIp),
          healthPath: revision.health.http_path,
        });
      }
    }
    const routing = new Routing(c, this.config, env.environment_id);
    await this.exclusive(`deployment:${deploymentId}`, () => routing.apply(deployment, routed, signal));
    // Traffic Manager weighs per mille: report (and let bp record) the split it really enforces.
    const enforced = enforcedSplit(entries);
    if (enforced.some((e, i) => e.weight_bps !== entries[i].weight_bps)) {
      this.logger.warn(
        `azure-vm: the split of ${deploymentId} is rounded to what Traffic Manager weights (per mille) can express`,
        { enforced },
      );
    }
    return { applied_deployment_id: deploymentId, applied_entries: enforced };
  }

  async releaseRouting(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<void> {
    beginVerb(opts, `releasing the routing of "${deploymentId}"`);
    const { c } = await this.api();
    const routing = new Routing(c, this.config, env.environment_id);
    await this.exclusive(`deployment:${deploymentId}`, () => routing.releaseAll(deploymentId, opts.signal));
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    const { c, revisions } = await this.api();
    return observeEnvironment(c, revisions, this.config.resource_group, env, opts.signal);
  }
}
