/**
 * The k8s deployer: each revision is a Deployment (plus a Service, and an HPA when
 * `max_replicas` is set) applied with server-side apply as field manager `bp`; each
 * deployment's split is an HTTPRoute (gateway-api) or a stable Service over replica
 * proportions (replicas). See docs/deployers/kubernetes.md.
 */
import type { Deployer, DeployerDeployment, DeployerEnvironment, DeployerRevision, Logger } from '../kit/api.js';
import type { Observation, SplitResult, StageResult, VerbOptions, WarmResult } from '../kit/api.js';
import { beginRevisionVerb, beginSplitVerb, beginVerb, keyedMutex, ProviderError, waitOutDrain } from '../kit/api.js';
import { checkImageReference } from '../kit/image-reference.js';
import { throwIfAborted } from '../kit/api.js';
import type { KubeClient } from './client.js';
import { environmentProblems } from './env-checks.js';
import {
  deploymentManifest,
  endpointOf,
  hpaManifest,
  identityOf,
  revisionServiceManifest,
  secretManifest,
  type Owner,
} from './manifests.js';
import { ANNOTATION, objectName } from './names.js';
import { applyAllOwned, applyOwned, applyRevisionSecret, foreignOwner, removeOwned } from './ownership.js';
import { observeEnvironment } from './observe.js';
import {
  applySplit,
  desiredReplicas,
  readEnforced,
  releaseRouting,
  removeFromRouting,
  type SplitContext,
} from './routing.js';
import { waitForRollout } from './rollout.js';
import type { K8sSettings } from './settings.js';

/** Hands out a client (and re-authenticates when its credentials are about to expire). */
export type Connect = () => Promise<KubeClient>;

export class K8sDeployer implements Deployer {
  /** Serializes read-modify-write of one deployment's routing within this process. */
  private readonly exclusive = keyedMutex();

  constructor(
    private readonly connect: Connect,
    private readonly settings: K8sSettings,
    private readonly logger: Logger,
  ) {}

  /** Connects, then runs `fn` with the verb's signal attached to every request. */
  private async withKube<T>(signal: AbortSignal, fn: (kube: KubeClient) => Promise<T>): Promise<T> {
    const kube = await this.connect();
    throwIfAborted(signal, 'the request');
    return kube.withSignal(signal, () => fn(kube));
  }

  /** What validate refuses, refused again here for callers that never ran validate. */
  private checkDeployable(env: DeployerEnvironment, deployment: DeployerDeployment): void {
    const problems = environmentProblems(this.settings, env, deployment.deployer, false);
    if (problems.length > 0) {
      throw new ProviderError(
        `the environment cannot be deployed to Kubernetes as declared: ${problems.map((p) => p.message).join('; ')}`,
        { retryable: false },
      );
    }
  }

  private context(
    kube: KubeClient,
    env: DeployerEnvironment,
    deployment: DeployerDeployment,
    signal: AbortSignal,
  ): SplitContext {
    return { kube, owner: ownerOf(env, deployment), deployment, settings: this.settings, signal };
  }

  async stageRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<StageResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'staging');
    const image = imageOf(revision);
    this.checkDeployable(env, deployment);
    return this.withKube(opts.signal, async (kube) => {
      const ns = await kube.read('v1', 'Namespace', kube.namespace, false).catch((e: unknown) => {
        // Reading namespaces is often forbidden to deploy users; the first apply will tell.
        if ((e as { message?: string }).message?.includes('forbidden')) return { found: true };
        throw e;
      });
      if (!ns) {
        throw new ProviderError(
          `namespace "${kube.namespace}" does not exist in the cluster at ${kube.server}; create it (kubectl create namespace ${kube.namespace}) or set namespace in the deployer config`,
        );
      }
      return { outputs: { namespace: kube.namespace, name: objectName(env.environment_id, revisionId), image } };
    });
  }

  async warmRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions): Promise<WarmResult> {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'warming');
    imageOf(revision);
    this.checkDeployable(env, deployment);
    return this.withKube(opts.signal, async (kube) => {
      const owner = ownerOf(env, deployment);
      const want = await this.exclusive(`deployment:${deployment.deployment_id}`, async () => {
        const enforced = this.settings.traffic === 'replicas' ? await readEnforced(kube, owner, this.settings) : null;
        const want = desiredReplicas(revision, enforced, this.settings);
        // The Secret first: pods of the Deployment read their env from it.
        await applyRevisionSecret(kube, secretManifest(owner, revision));
        await applyAllOwned(kube, [
          deploymentManifest(owner, revision, this.settings, want.replicas, want.state),
          revisionServiceManifest(owner, revision, this.settings),
          ...(want.replicas === null ? [hpaManifest(owner, revision, revision.resources.max_replicas!)] : []),
        ]);
        return want;
      });
      await waitForRollout(kube, {
        name: objectName(env.environment_id, revisionId),
        revisionId,
        replicas: want.replicas ?? undefined,
        timeoutMs: this.settings.rolloutTimeoutMs,
        pollMs: this.settings.pollMs,
        signal: opts.signal,
        progress: opts.progress,
      });
      const name = objectName(env.environment_id, revisionId);
      return {
        endpoint: endpointOf(owner, revisionId, kube.namespace, this.settings),
        outputs: { namespace: kube.namespace, deployment: name, service: name },
      };
    });
  }

  async drainRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'draining');
    return this.withKube(opts.signal, async (kube) => {
      const c = this.context(kube, env, deployment, opts.signal);
      await this.exclusive(`deployment:${deployment.deployment_id}`, () => removeFromRouting(c, revisionId, 'drain'));
      const name = objectName(env.environment_id, revisionId);
      const live = await kube.read('apps/v1', 'Deployment', name);
      if (
        !live ||
        foreignOwner(live, identityOf(c.owner, revisionId)) ||
        live.metadata.annotations?.[ANNOTATION.state] === 'drained'
      )
        return {};
      // Endpoints and gateways take a moment to stop sending; in-flight requests get drain_seconds.
      await waitOutDrain(revision, opts);
      // An HPA would scale a drained revision back up: it goes first (only max_replicas revisions have one).
      if (revision.resources.max_replicas !== undefined) {
        await removeOwned(kube, 'autoscaling/v2', 'HorizontalPodAutoscaler', name, identityOf(c.owner, revisionId));
      }
      await applyOwned(kube, deploymentManifest(c.owner, revision, this.settings, 0, 'drained'));
      this.logger.info('drained revision', { revision: revisionId, namespace: kube.namespace });
      return {};
    });
  }

  async archiveRevision(env: DeployerEnvironment, revisionId: string, opts: VerbOptions) {
    const { deployment, revision } = beginRevisionVerb(env, revisionId, opts, 'archiving');
    return this.withKube(opts.signal, async (kube) => {
      const c = this.context(kube, env, deployment, opts.signal);
      await this.exclusive(`deployment:${deployment.deployment_id}`, async () => {
        await removeFromRouting(c, revisionId, 'archive');
        const name = objectName(env.environment_id, revisionId);
        const identity = identityOf(c.owner, revisionId);
        // Revisions are immutable: only one declared with max_replicas ever had an HPA.
        if (revision.resources.max_replicas !== undefined)
          await removeOwned(kube, 'autoscaling/v2', 'HorizontalPodAutoscaler', name, identity);
        await removeOwned(kube, 'v1', 'Service', name, identity);
        await removeOwned(kube, 'apps/v1', 'Deployment', name, identity);
        // After its pods' Deployment: the revision's env values leave the cluster with it.
        await removeOwned(kube, 'v1', 'Secret', name, identity);
      });
      return {};
    });
  }

  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<SplitResult> {
    const { deployment, entries } = beginSplitVerb(env, deploymentId, opts);
    this.checkDeployable(env, deployment);
    await this.withKube(opts.signal, (kube) =>
      this.exclusive(`deployment:${deploymentId}`, () =>
        applySplit(this.context(kube, env, deployment, opts.signal), entries),
      ),
    );
    return { applied_deployment_id: deploymentId, applied_entries: entries };
  }

  async releaseRouting(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions): Promise<void> {
    beginVerb(opts, `releasing the routing of "${deploymentId}"`);
    const deployment = env.deployments.find((d) => d.deployment_id === deploymentId);
    if (!deployment) return;
    await this.withKube(opts.signal, (kube) =>
      this.exclusive(`deployment:${deploymentId}`, () =>
        releaseRouting(this.context(kube, env, deployment, opts.signal)),
      ),
    );
  }

  async observe(env: DeployerEnvironment, opts: VerbOptions): Promise<Observation> {
    beginVerb(opts, 'observing');
    return this.withKube(opts.signal, (kube) => observeEnvironment(kube, env, this.settings));
  }
}

function ownerOf(env: DeployerEnvironment, deployment: DeployerDeployment): Owner {
  return { environmentId: env.environment_id, deploymentId: deployment.deployment_id };
}

/** Kubernetes runs images: a revision must declare a well-formed `artifact.image`. */
export function imageOf(revision: DeployerRevision): string {
  const image = revision.artifact.image;
  if (image === undefined) {
    const has = revision.artifact.command ? 'a command' : 'a binary';
    throw new ProviderError(
      `revision "${revision.revision_id}" has ${has} artifact; the k8s deployer runs container images: declare artifact.image`,
    );
  }
  checkImageReference(revision.revision_id, image);
  return image;
}
