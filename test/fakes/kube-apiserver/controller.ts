/**
 * A stand-in for the Deployment controller, the ReplicaSet controller, the scheduler and the
 * kubelet together (BEHAVIOUR.md, "Controller loop"): every tick it moves each Deployment's
 * pods and status toward its spec. Pods become ready after `readyDelayMs`, unless their image
 * matches a failure rule (ImagePullBackOff, CrashLoopBackOff, ...).
 */
import { createHash } from 'node:crypto';
import { isPlainObject, type Obj } from './fields.js';
import type { ResourceRegistry, ResourceType } from './resources.js';
import { HpaController } from './hpa.js';
import type { ObjectStore } from './store.js';

export type PodFailure = 'ErrImagePull' | 'ImagePullBackOff' | 'CrashLoopBackOff' | 'CreateContainerConfigError';

export interface FailureRule {
  /** Matches the container image. */
  image: RegExp;
  reason: PodFailure;
}

export interface ControllerOptions {
  tickMs: number;
  readyDelayMs: number;
  failures: FailureRule[];
  /** CPU utilization (percent of request) the HPA controller sees, by "namespace/deployment". */
  cpuUtilization: Record<string, number>;
}

const POD_TEMPLATE_HASH = 'pod-template-hash';

export class DeploymentController {
  private timer: NodeJS.Timeout | undefined;
  private readonly deployments: ResourceType;
  private readonly pods: ResourceType;
  private readonly secrets: ResourceType;
  /** When each Deployment's current rollout started (progress deadline). */
  private readonly rolloutStarted = new Map<string, { hash: string; at: number }>();

  private readonly hpa: HpaController;

  constructor(
    private readonly store: ObjectStore,
    registry: ResourceRegistry,
    readonly options: ControllerOptions,
  ) {
    this.deployments = registry.byKind('apps/v1', 'Deployment')!;
    this.pods = registry.byKind('v1', 'Pod')!;
    this.secrets = registry.byKind('v1', 'Secret')!;
    this.hpa = new HpaController(store, registry, options);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One reconciliation pass over every Deployment and orphaned pod. */
  tick(now = Date.now()): void {
    this.hpa.tick(now);
    const live = new Set<string>();
    for (const d of this.store.list(this.deployments, undefined, null)) {
      live.add(String((d.metadata as Obj).uid));
      this.reconcile(d, now);
    }
    // Garbage collection: pods whose owning Deployment is gone (background propagation).
    for (const p of this.store.list(this.pods, undefined, null)) {
      const owner = ((p.metadata as Obj).ownerReferences as Obj[] | undefined)?.[0];
      if (owner && !live.has(String(owner.uid)))
        this.store.delete(this.pods, String((p.metadata as Obj).namespace), String((p.metadata as Obj).name));
    }
  }

  private reconcile(d: Obj, now: number): void {
    const meta = d.metadata as Obj;
    const ns = String(meta.namespace);
    const name = String(meta.name);
    const spec = d.spec as Obj;
    const template = (spec.template ?? {}) as Obj;
    const want = Number(spec.replicas ?? 1);
    const hash = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
    const key = `${ns}/${name}`;
    const started = this.rolloutStarted.get(key);
    if (!started || started.hash !== hash) this.rolloutStarted.set(key, { hash, at: now });

    const owned = this.store
      .list(this.pods, ns, null)
      .filter(
        (p) =>
          (p.metadata as Obj).ownerReferences && ((p.metadata as Obj).ownerReferences as Obj[])[0]?.uid === meta.uid,
      );
    const current = owned.filter(
      (p) => ((p.metadata as Obj).labels as Record<string, string>)[POD_TEMPLATE_HASH] === hash,
    );
    const old = owned.filter((p) => !current.includes(p));

    for (let i = current.length; i < want; i++) current.push(this.createPod(d, template, hash, ns, now));
    while (current.length > want) {
      const p = current.pop()!;
      this.store.delete(this.pods, ns, String((p.metadata as Obj).name));
    }
    for (const p of current) this.advancePod(p, ns, now);
    const ready = current.filter((p) => isReady(p)).length;
    // Rolling update: old pods go once the new ones carry the load.
    if (ready >= want) for (const p of old) this.store.delete(this.pods, ns, String((p.metadata as Obj).name));
    const remainingOld = ready >= want ? 0 : old.length;

    const progressDeadline = Number(spec.progressDeadlineSeconds ?? 600) * 1000;
    const complete = current.length === want && ready === want && remainingOld === 0;
    const stalled = !complete && now - this.rolloutStarted.get(key)!.at > progressDeadline;
    const available = ready;
    const lastTransition = new Date(this.rolloutStarted.get(key)!.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status: Obj = {
      observedGeneration: meta.generation,
      replicas: current.length + remainingOld,
      updatedReplicas: current.length,
      readyReplicas: ready,
      availableReplicas: available,
      conditions: [
        {
          type: 'Available',
          status: available >= want ? 'True' : 'False',
          reason: available >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message:
            available >= want
              ? 'Deployment has minimum availability.'
              : 'Deployment does not have minimum availability.',
          lastUpdateTime: lastTransition,
          lastTransitionTime: lastTransition,
        },
        {
          type: 'Progressing',
          status: stalled ? 'False' : 'True',
          reason: stalled ? 'ProgressDeadlineExceeded' : complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          message: stalled
            ? `ReplicaSet "${name}-${hash}" has timed out progressing.`
            : complete
              ? `ReplicaSet "${name}-${hash}" has successfully progressed.`
              : `ReplicaSet "${name}-${hash}" is progressing.`,
          lastUpdateTime: lastTransition,
          lastTransitionTime: lastTransition,
        },
      ],
    };
    if (want - available > 0) status.unavailableReplicas = want - available;
    for (const k of ['readyReplicas', 'availableReplicas', 'updatedReplicas', 'replicas'] as const)
      if (status[k] === 0) delete status[k];
    this.store.writeStatus(this.deployments, ns, name, status);
  }

  private createPod(d: Obj, template: Obj, hash: string, ns: string, now: number): Obj {
    const meta = d.metadata as Obj;
    const suffix = Math.random().toString(36).slice(2, 7);
    const tmeta = (template.metadata ?? {}) as Obj;
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${String(meta.name)}-${hash}-${suffix}`,
        labels: { ...((tmeta.labels ?? {}) as Obj), [POD_TEMPLATE_HASH]: hash },
        annotations: { 'fake.bp.dev/created-ms': String(now) },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: meta.name,
            uid: meta.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: structuredClone(template.spec ?? {}),
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
    };
    return this.store.insertSystem(this.pods, ns, pod);
  }

  /** The kubelet's message when an env var's `secretKeyRef` names a Secret or key that is not there. */
  private missingSecretKey(container: Obj, ns: string): string | null {
    for (const e of (container.env ?? []) as Obj[]) {
      const ref = ((e.valueFrom as Obj | undefined)?.secretKeyRef ?? null) as Obj | null;
      if (!ref || ref.optional === true) continue;
      const secret = this.store.find(this.secrets, ns, String(ref.name));
      if (!secret) return `secret "${String(ref.name)}" not found`;
      if (!Object.hasOwn((secret.data ?? {}) as Obj, String(ref.key)))
        return `couldn't find key ${String(ref.key)} in Secret ${ns}/${String(ref.name)}`;
    }
    return null;
  }

  private advancePod(p: Obj, ns: string, now: number): void {
    const container = (((p.spec as Obj).containers ?? []) as Obj[])[0] ?? {};
    const image = String(container.image ?? '');
    const created = Number(((p.metadata as Obj).annotations as Obj)['fake.bp.dev/created-ms']);
    const failure = this.options.failures.find((f) => f.image.test(image));
    let state: Obj;
    let ready = false;
    let phase = 'Pending';
    let restartCount = 0;
    const configError = this.missingSecretKey(container, ns);
    if (configError) {
      state = { waiting: { reason: 'CreateContainerConfigError', message: configError } };
    } else if (failure) {
      const reason =
        failure.reason === 'ImagePullBackOff' && now - created < this.options.readyDelayMs
          ? 'ErrImagePull'
          : failure.reason;
      state = { waiting: { reason, message: failureMessage(reason, image, String((p.metadata as Obj).name)) } };
      if (reason === 'CrashLoopBackOff') {
        phase = 'Running';
        restartCount = 3;
      }
    } else if (now - created >= this.options.readyDelayMs) {
      state = {
        running: { startedAt: new Date(created + this.options.readyDelayMs).toISOString().replace(/\.\d{3}Z$/, 'Z') },
      };
      ready = true;
      phase = 'Running';
    } else {
      state = { waiting: { reason: 'ContainerCreating' } };
    }
    const status = {
      phase,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          ...(ready
            ? {}
            : { reason: 'ContainersNotReady', message: `containers with unready status: [${String(container.name)}]` }),
        },
      ],
      containerStatuses: [{ name: container.name, image, ready, restartCount, started: ready, state }],
    };
    this.store.writeStatus(this.pods, ns, String((p.metadata as Obj).name), status);
  }
}

function isReady(p: Obj): boolean {
  const conditions = ((p.status as Obj | undefined)?.conditions ?? []) as Obj[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function failureMessage(reason: string, image: string, pod: string): string {
  switch (reason) {
    case 'ErrImagePull':
      return `failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`;
    case 'ImagePullBackOff':
      return `Back-off pulling image "${image}"`;
    case 'CrashLoopBackOff':
      return `back-off 40s restarting failed container=app pod=${pod}_default`;
    default:
      return 'secret "app-config" not found';
  }
}

export function isObject(v: unknown): v is Obj {
  return isPlainObject(v);
}
