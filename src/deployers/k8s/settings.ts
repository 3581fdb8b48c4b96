/** The k8s deployer's configuration (`deployers.X.config`) and the settings derived from it. */
export type TrafficMode = 'replicas' | 'gateway-api';

export interface GatewayRef {
  name: string;
  namespace?: string;
  section_name?: string;
}

/** gateway-api mode: what one deployment's HTTPRoute matches. */
export interface RouteMatch {
  hostnames?: string[];
  /** A PathPrefix match (default `/`). */
  path_prefix?: string;
}

export interface K8sConfig {
  kubeconfig?: string;
  in_cluster?: boolean;
  context?: string;
  namespace?: string;
  traffic?: TrafficMode;
  gateway?: GatewayRef;
  hostnames?: string[];
  /** Per deployment id: its own hostnames and/or path prefix (gateway-api mode). */
  routes?: Record<string, RouteMatch>;
  container_port?: number;
  service_port?: number;
  rollout_timeout_seconds?: number;
  poll_interval_ms?: number;
  force_conflicts?: boolean;
  request_attempts?: number;
  image_pull_policy?: 'Always' | 'IfNotPresent' | 'Never';
}

export interface K8sSettings {
  traffic: TrafficMode;
  gateway: GatewayRef | null;
  hostnames: string[];
  routes: Record<string, RouteMatch>;
  containerPort: number;
  servicePort: number;
  rolloutTimeoutMs: number;
  pollMs: number;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never' | null;
}

/** A Gateway API hostname: a DNS name, optionally with one leading `*.` label (no IPs, no port). */
const HOSTNAME_PATTERN = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** JSON Schema of the settings shared by `k8s` and `aws-eks` (how bp deploys, not where). */
export const deploySettingsSchema = {
  namespace: {
    type: 'string',
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    maxLength: 63,
    description: 'Namespace for every object (default: the context\'s namespace, else "default").',
  },
  traffic: {
    enum: ['replicas', 'gateway-api'],
    default: 'replicas',
    description: 'How splits are enforced: replica proportions behind one stable Service, or HTTPRoute weights.',
  },
  gateway: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name: { type: 'string' }, namespace: { type: 'string' }, section_name: { type: 'string' } },
    description: 'The Gateway HTTPRoutes attach to (gateway-api mode).',
  },
  hostnames: {
    type: 'array',
    items: { type: 'string', pattern: HOSTNAME_PATTERN, maxLength: 253 },
    maxItems: 16,
    description: 'Default HTTPRoute hostnames of every deployment (gateway-api mode).',
  },
  routes: {
    type: 'object',
    additionalProperties: {
      type: 'object',
      additionalProperties: false,
      properties: {
        hostnames: {
          type: 'array',
          items: { type: 'string', pattern: HOSTNAME_PATTERN, maxLength: 253 },
          maxItems: 16,
        },
        path_prefix: { type: 'string', pattern: '^/', maxLength: 1024 },
      },
    },
    description:
      'Per deployment id: the hostnames and/or path prefix its HTTPRoute matches (gateway-api mode); ' +
      'two deployments on one deployer may not match the same hostname and path.',
  },
  container_port: {
    type: 'integer',
    minimum: 1,
    maximum: 65535,
    default: 8080,
    description: 'Port the artifact listens on; passed to it as $PORT.',
  },
  service_port: {
    type: 'integer',
    minimum: 1,
    maximum: 65535,
    default: 80,
    description: 'Port of the per-revision and stable Services.',
  },
  rollout_timeout_seconds: {
    type: 'integer',
    minimum: 1,
    default: 600,
    description: "How long warm waits for a rollout (also the Deployment's progressDeadlineSeconds).",
  },
  poll_interval_ms: {
    type: 'integer',
    minimum: 10,
    default: 1000,
    description: 'How often warm/split poll rollout status.',
  },
  force_conflicts: {
    type: 'boolean',
    default: true,
    description: 'Take back fields another field manager changed (server-side apply force).',
  },
  request_attempts: {
    type: 'integer',
    minimum: 1,
    maximum: 20,
    default: 1,
    description:
      'Attempts per API request on 429/5xx/409 before the verb fails (retryable); 1 leaves retries to the engine.',
  },
  image_pull_policy: {
    enum: ['Always', 'IfNotPresent', 'Never'],
    description: "Container imagePullPolicy (default: the cluster's).",
  },
} as const;

export function settingsFrom(config: K8sConfig): K8sSettings {
  return {
    traffic: config.traffic ?? 'replicas',
    gateway: config.gateway ?? null,
    hostnames: config.hostnames ?? [],
    routes: config.routes ?? {},
    containerPort: config.container_port ?? 8080,
    servicePort: config.service_port ?? 80,
    rolloutTimeoutMs: (config.rollout_timeout_seconds ?? 600) * 1000,
    pollMs: config.poll_interval_ms ?? 1000,
    imagePullPolicy: config.image_pull_policy ?? null,
  };
}
