/**
 * A stand-in for the HorizontalPodAutoscaler controller (BEHAVIOUR.md, "HPA controller"): every
 * tick, each HPA scales its target Deployment to
 * `ceil(currentReplicas * currentUtilization / targetUtilization)`, clamped to
 * [minReplicas, maxReplicas], through the scale subresource as field manager
 * `kube-controller-manager`, and writes its status. A target at 0 replicas is left alone
 * (autoscaling is disabled at zero). Utilization is what the test sets per Deployment
 * (`controller.options.cpuUtilization["ns/name"]`), else exactly the target (no change but the clamp).
 * ([HPA algorithm](https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details))
 */
import type { Obj } from './fields.js';
import type { ResourceRegistry, ResourceType } from './resources.js';
import type { ObjectStore } from './store.js';

export class HpaController {
  private readonly hpas: ResourceType;
  private readonly deployments: ResourceType;

  constructor(
    private readonly store: ObjectStore,
    registry: ResourceRegistry,
    private readonly options: { cpuUtilization: Record<string, number> },
  ) {
    this.hpas = registry.byKind('autoscaling/v2', 'HorizontalPodAutoscaler')!;
    this.deployments = registry.byKind('apps/v1', 'Deployment')!;
  }

  tick(now: number): void {
    for (const h of this.store.list(this.hpas, undefined, null)) this.reconcile(h, now);
  }

  private reconcile(h: Obj, now: number): void {
    const meta = h.metadata as Obj;
    const ns = String(meta.namespace);
    const spec = h.spec as Obj;
    const ref = spec.scaleTargetRef as Obj;
    const min = Number(spec.minReplicas ?? 1);
    const max = Number(spec.maxReplicas);
    const target = ref.kind === 'Deployment' ? this.store.find(this.deployments, ns, String(ref.name)) : undefined;
    const old = (h.status ?? {}) as Obj;
    const stamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (!target) {
      this.store.writeStatus(this.hpas, ns, String(meta.name), {
        ...old,
        currentReplicas: 0,
        desiredReplicas: 0,
        conditions: [
          {
            type: 'AbleToScale',
            status: 'False',
            reason: 'FailedGetScale',
            message: `the HPA controller was unable to get the target's current scale: deployments/scale.apps "${String(ref.name)}" not found`,
            lastTransitionTime: stamp,
          },
        ],
      });
      return;
    }
    const current = Number((target.spec as Obj).replicas ?? 1);
    if (current === 0) {
      this.store.writeStatus(this.hpas, ns, String(meta.name), {
        ...old,
        currentReplicas: 0,
        desiredReplicas: 0,
        conditions: [
          {
            type: 'ScalingActive',
            status: 'False',
            reason: 'ScalingDisabled',
            message: 'scaling is disabled since the replica count of the target is zero',
            lastTransitionTime: stamp,
          },
        ],
      });
      return;
    }
    const goal =
      ((((spec.metrics as Obj[] | undefined)?.[0]?.resource as Obj | undefined)?.target as Obj | undefined)
        ?.averageUtilization as number | undefined) ?? 80;
    const used = this.options.cpuUtilization[`${ns}/${String(ref.name)}`] ?? goal;
    const raw = Math.ceil((current * used) / goal);
    const desired = Math.min(max, Math.max(min, raw));
    if (desired !== current) {
      this.store.mergePatch(
        this.deployments,
        ns,
        String(ref.name),
        { spec: { replicas: desired } },
        { manager: 'kube-controller-manager' },
      );
    }
    const limited = raw !== desired;
    this.store.writeStatus(this.hpas, ns, String(meta.name), {
      currentReplicas: current,
      desiredReplicas: desired,
      ...(desired !== current
        ? { lastScaleTime: stamp }
        : old.lastScaleTime
          ? { lastScaleTime: old.lastScaleTime }
          : {}),
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: used } } }],
      conditions: [
        {
          type: 'AbleToScale',
          status: 'True',
          reason: 'ReadyForNewScale',
          message: 'recommended size matches current size',
          lastTransitionTime: stamp,
        },
        {
          type: 'ScalingActive',
          status: 'True',
          reason: 'ValidMetricFound',
          message:
            'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
          lastTransitionTime: stamp,
        },
        limited
          ? {
              type: 'ScalingLimited',
              status: 'True',
              reason: raw > max ? 'TooManyReplicas' : 'TooFewReplicas',
              message: `the desired replica count is ${raw > max ? 'more' : 'less'} than the ${raw > max ? 'maximum' : 'minimum'} replica count`,
              lastTransitionTime: stamp,
            }
          : {
              type: 'ScalingLimited',
              status: 'False',
              reason: 'DesiredWithinRange',
              message: 'the desired count is within the acceptable range',
              lastTransitionTime: stamp,
            },
      ],
    });
  }
}
