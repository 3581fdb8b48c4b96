/**
 * The objects bp server-side-applies, as pure functions of the revision and settings. bp always
 * applies a complete object: with server-side apply, a field bp stops sending is a field bp
 * asks the server to remove.
 */
import type { DeployerDeployment, DeployerRevision } from '../../model/deployer.js';
import type { SplitEntry } from '../../model/environment.js';
import type { KubeObject } from './client.js';
import { routeMatchOf } from './env-checks.js';
import { ANNOTATION, baseLabels, LABEL, labelValue, objectName, revisionSelector, type Role } from './names.js';
import type { K8sSettings } from './settings.js';

export type RevisionState = 'serving' | 'parked' | 'drained';

export interface Owner {
  environmentId: string;
  deploymentId: string;
}

function metadata(
  owner: Owner,
  name: string,
  role: Role,
  extra: { revisionId?: string; annotations?: Record<string, string> } = {},
): KubeObject['metadata'] {
  const labels: Record<string, string> = { ...baseLabels(owner.environmentId, owner.deploymentId), [LABEL.role]: role };
  const annotations: Record<string, string> = {
    [ANNOTATION.environmentId]: owner.environmentId,
    [ANNOTATION.deploymentId]: owner.deploymentId,
    ...extra.annotations,
  };
  if (extra.revisionId !== undefined) {
    labels[LABEL.revision] = labelValue(extra.revisionId);
    annotations[ANNOTATION.revisionId] = extra.revisionId;
  }
  return { name, labels, annotations };
}

/** The identity annotations of the objects bp keeps for `owner` (and a revision): see ownership.ts. */
export function identityOf(owner: Owner, revisionId?: string): Pick<KubeObject, 'metadata'> {
  return { metadata: metadata(owner, '', 'revision', revisionId === undefined ? {} : { revisionId }) };
}

/** Whole seconds for int32 API fields: a fraction rounds up, so a wait is never shortened. */
export function wholeSeconds(seconds: number, min: number, max = 2 ** 31 - 1): number {
  return Math.min(max, Math.max(min, Math.ceil(seconds)));
}

/** `0.25` cores is `250m`; memory in MiB. */
function resourceRequirements(revision: DeployerRevision): Record<string, Record<string, string>> {
  const { cpu, memory_mb, gpu } = revision.resources;
  const requests: Record<string, string> = { cpu: `${Math.max(1, Math.round(cpu * 1000))}m`, memory: `${memory_mb}Mi` };
  const limits: Record<string, string> = { memory: `${memory_mb}Mi` };
  if (gpu > 0) limits['nvidia.com/gpu'] = String(gpu);
  return { requests, limits };
}

/**
 * `replicas: null` leaves spec.replicas out of bp's fields: an HPA owns it (gateway-api mode with
 * max_replicas), and sending it would fight the autoscaler on every apply.
 */
export function deploymentManifest(
  owner: Owner,
  revision: DeployerRevision,
  settings: K8sSettings,
  replicas: number | null,
  state: RevisionState,
): KubeObject {
  const selector = revisionSelector(owner.environmentId, owner.deploymentId, revision.revision_id);
  // validate refuses a user PORT (env-checks.ts); env is a list-map keyed by name, one entry each.
  // Every value comes from the revision's Secret (secretManifest): the pod template holds names
  // only, so describe rights on Deployments or pods reveal no value, and a drain (which runs
  // without the app's secrets) applies the very same template.
  const secretName = objectName(owner.environmentId, revision.revision_id);
  const env: Array<Record<string, unknown>> = appEnvNames(revision).map((name) => ({
    name,
    valueFrom: { secretKeyRef: { name: secretName, key: name } },
  }));
  env.push({ name: 'PORT', value: String(settings.containerPort) });
  const container: Record<string, unknown> = {
    name: 'app',
    image: revision.artifact.image,
    env,
    ports: [{ name: 'http', containerPort: settings.containerPort, protocol: 'TCP' }],
    resources: resourceRequirements(revision),
    readinessProbe: {
      httpGet: { path: revision.health.http_path, port: 'http' },
      periodSeconds: 2,
      timeoutSeconds: wholeSeconds(Math.min(revision.health.timeout_seconds, 10), 1),
      failureThreshold: 3,
    },
  };
  if (settings.imagePullPolicy) container.imagePullPolicy = settings.imagePullPolicy;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(owner, objectName(owner.environmentId, revision.revision_id), 'revision', {
      revisionId: revision.revision_id,
      annotations: { [ANNOTATION.state]: state, [ANNOTATION.baseReplicas]: String(revision.resources.replicas) },
    }),
    spec: {
      ...(replicas === null ? {} : { replicas }),
      selector: { matchLabels: selector },
      progressDeadlineSeconds: Math.ceil(settings.rolloutTimeoutMs / 1000),
      template: {
        metadata: { labels: { ...selector, [LABEL.managedBy]: 'bp' } },
        spec: {
          // The pod gets drain_seconds to finish in-flight work after SIGTERM.
          terminationGracePeriodSeconds: wholeSeconds(revision.drain_seconds, 1),
          containers: [container],
        },
      },
    },
  };
}

/** The revision's own env var names (PORT is bp's). */
export function appEnvNames(revision: DeployerRevision): string[] {
  return Object.keys(revision.artifact.env).filter((name) => name !== 'PORT');
}

/**
 * The revision's env values as an immutable Secret (one key per variable, base64 `data`: never
 * `stringData`, whose plaintext would sit in request logs), created before the Deployment that
 * reads it through `secretKeyRef` and deleted when the revision is archived. Immutable like the
 * revision: the API server refuses any change to its data, and kubelets stop watching it.
 */
export function secretManifest(owner: Owner, revision: DeployerRevision): KubeObject {
  const data: Record<string, string> = {};
  for (const name of appEnvNames(revision))
    data[name] = Buffer.from(revision.artifact.env[name], 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(owner, objectName(owner.environmentId, revision.revision_id), 'revision', {
      revisionId: revision.revision_id,
    }),
    type: 'Opaque',
    immutable: true,
    data,
  } as KubeObject;
}

export function revisionServiceManifest(owner: Owner, revision: DeployerRevision, settings: K8sSettings): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(owner, objectName(owner.environmentId, revision.revision_id), 'revision', {
      revisionId: revision.revision_id,
    }),
    spec: {
      selector: revisionSelector(owner.environmentId, owner.deploymentId, revision.revision_id),
      ports: [{ name: 'http', port: settings.servicePort, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function hpaManifest(owner: Owner, revision: DeployerRevision, maxReplicas: number): KubeObject {
  const name = objectName(owner.environmentId, revision.revision_id);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(owner, name, 'revision', { revisionId: revision.revision_id }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: Math.max(1, revision.resources.replicas),
      maxReplicas: Math.max(maxReplicas, revision.resources.replicas, 1),
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
      ],
    },
  };
}

/**
 * Replicas mode: the one Service clients use. One revision carrying all traffic is selected
 * alone (so warm revisions outside the split get nothing); several are selected together and
 * share traffic by pod count; none selects nothing.
 */
export function stableServiceManifest(
  owner: Owner,
  deployment: DeployerDeployment,
  split: SplitEntry[],
  pool: number,
  settings: K8sSettings,
  selectAll = false,
): KubeObject {
  const weighted = selectAll ? [] : split.filter((e) => e.weight_bps > 0);
  const selector: Record<string, string> = {
    [LABEL.environment]: labelValue(owner.environmentId),
    [LABEL.deployment]: labelValue(owner.deploymentId),
  };
  if (weighted.length === 1) selector[LABEL.revision] = labelValue(weighted[0].revision_id);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(owner, objectName(owner.environmentId, deployment.deployment_id), 'stable', {
      annotations: { [ANNOTATION.split]: JSON.stringify(split), [ANNOTATION.pool]: String(pool) },
    }),
    spec: { selector, ports: [{ name: 'http', port: settings.servicePort, targetPort: 'http', protocol: 'TCP' }] },
  };
}

/** Gateway-api mode: an HTTPRoute whose backendRefs (the revisions' Services) carry the weights. */
export function httpRouteManifest(
  owner: Owner,
  deployment: DeployerDeployment,
  split: SplitEntry[],
  settings: K8sSettings,
): KubeObject {
  const gateway = settings.gateway;
  const match = routeMatchOf(settings, deployment.deployment_id);
  const parentRefs = gateway
    ? [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: gateway.name,
          ...(gateway.namespace ? { namespace: gateway.namespace } : {}),
          ...(gateway.section_name ? { sectionName: gateway.section_name } : {}),
        },
      ]
    : [];
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: metadata(owner, objectName(owner.environmentId, deployment.deployment_id), 'route', {
      annotations: { [ANNOTATION.split]: JSON.stringify(split) },
    }),
    spec: {
      parentRefs,
      ...(match.hostnames.length > 0 ? { hostnames: match.hostnames } : {}),
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: match.path } }],
          backendRefs: split.map((e) => ({
            group: '',
            kind: 'Service',
            name: objectName(owner.environmentId, e.revision_id),
            port: settings.servicePort,
            weight: e.weight_bps,
          })),
        },
      ],
    },
  };
}

export function endpointOf(owner: Owner, revisionId: string, namespace: string, settings: K8sSettings): string {
  return `http://${objectName(owner.environmentId, revisionId)}.${namespace}.svc.cluster.local:${settings.servicePort}`;
}
