/**
 * `deployers.X.config` of the docker deployer: where the engine is, how containers are
 * networked and restarted, and where bp reaches their published ports.
 */

export type NetworkMode = 'bridge' | 'host';
export type RestartPolicy = 'no' | 'on-failure' | 'always' | 'unless-stopped';
export type PullPolicy = 'missing' | 'never';

export interface DockerConfig {
  /** Unix socket of the engine (e.g. /var/run/docker.sock, or podman's). */
  socket_path?: string;
  /** TCP engine: host, port and protocol; TLS files for https. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  network_mode?: NetworkMode;
  /** Host address container ports are published on (bridge mode). */
  publish_ip?: string;
  /** Where bp (its health checks and routers) reaches published ports; defaults from publish_ip / host. */
  endpoint_host?: string;
  /** The port the application listens on inside the container (bridge mode); also its $PORT. */
  container_port?: number;
  restart_policy?: RestartPolicy;
  pull_policy?: PullPolicy;
  /** Registry credentials for pulls; the password is read from an environment variable, never the file. */
  registry_auth?: { username: string; password_env: string; server_address?: string };
  health_check_interval_ms?: number;
  /** SIGTERM-to-SIGKILL grace when a router process is stopped. */
  kill_grace_seconds?: number;
  /** Secret env values as files on a tmpfs (NAME_FILE in Env) instead of Env values. */
  secrets_as_files?: boolean;
  /** Where those files are mounted in the container. */
  secrets_dir?: string;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    socket_path: {
      type: 'string',
      minLength: 1,
      description: 'Unix socket of the Docker engine (default: DOCKER_HOST, else /var/run/docker.sock).',
    },
    host: { type: 'string', minLength: 1, description: 'TCP Docker engine host (instead of socket_path).' },
    port: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      description: 'TCP Docker engine port (default 2375 http, 2376 https).',
    },
    protocol: { enum: ['http', 'https'], description: 'TCP protocol; https uses ca_file, cert_file, key_file.' },
    ca_file: { type: 'string', minLength: 1 },
    cert_file: { type: 'string', minLength: 1 },
    key_file: { type: 'string', minLength: 1 },
    network_mode: {
      enum: ['bridge', 'host'],
      default: 'bridge',
      description:
        'bridge: container_port is published on publish_ip at a port the engine picks; host: the container shares the host network and gets a free $PORT.',
    },
    publish_ip: {
      type: 'string',
      minLength: 1,
      default: '127.0.0.1',
      description: 'Host address published ports bind to.',
    },
    endpoint_host: {
      type: 'string',
      minLength: 1,
      description:
        'Address bp uses to reach published ports (default: publish_ip, or the engine host when publish_ip is a wildcard).',
    },
    container_port: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      default: 8080,
      description: 'Port the application listens on inside the container.',
    },
    restart_policy: { enum: ['no', 'on-failure', 'always', 'unless-stopped'], default: 'unless-stopped' },
    pull_policy: {
      enum: ['missing', 'never'],
      default: 'missing',
      description: 'Pull an image at stage when the engine lacks it, or never pull.',
    },
    registry_auth: {
      type: 'object',
      additionalProperties: false,
      required: ['username', 'password_env'],
      properties: {
        username: { type: 'string', minLength: 1 },
        password_env: {
          type: 'string',
          minLength: 1,
          description: 'Name of the environment variable holding the password or token.',
        },
        server_address: { type: 'string', minLength: 1 },
      },
    },
    health_check_interval_ms: {
      type: 'integer',
      minimum: 100,
      default: 1000,
      description: 'Router backend probe interval.',
    },
    kill_grace_seconds: {
      type: 'number',
      minimum: 0,
      default: 5,
      description: 'Grace between SIGTERM and SIGKILL when stopping a router.',
    },
    secrets_as_files: {
      type: 'boolean',
      default: false,
      description:
        'Put every artifact.env value resolved from an ${env:}, ${file:} or ${secret:} reference into a file (mode 0400) on a tmpfs at secrets_dir and set NAME_FILE=<secrets_dir>/NAME instead of NAME, so docker inspect shows no secret value.',
    },
    secrets_dir: {
      type: 'string',
      pattern: '^/[^\\0]+$',
      default: '/run/secrets',
      description: 'Absolute path in the container where secrets_as_files mounts its tmpfs.',
    },
  },
};

/** The config with defaults applied and the endpoint host decided. */
export interface DockerSettings {
  networkMode: NetworkMode;
  publishIp: string;
  endpointHost: string;
  containerPort: number;
  restartPolicy: RestartPolicy;
  pullPolicy: PullPolicy;
  registryAuth: DockerConfig['registry_auth'] | null;
  healthIntervalMs: number;
  killGraceMs: number;
  /** Directory of the secrets tmpfs, or null when secrets go into Env. */
  secretsDir: string | null;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function engineHostFromEnv(): string | null {
  const dockerHost = process.env.DOCKER_HOST;
  if (!dockerHost || !/^(tcp|https?):\/\//.test(dockerHost)) return null;
  try {
    return new URL(dockerHost.replace(/^tcp:/, 'http:')).hostname || null;
  } catch {
    return null;
  }
}

export function settingsFrom(config: DockerConfig): DockerSettings {
  const networkMode = config.network_mode ?? 'bridge';
  const publishIp = config.publish_ip ?? '127.0.0.1';
  const fallbackHost = config.host ?? engineHostFromEnv() ?? '127.0.0.1';
  const endpointHost = config.endpoint_host ?? (WILDCARDS.has(publishIp) ? fallbackHost : publishIp);
  return {
    networkMode,
    publishIp,
    endpointHost,
    containerPort: config.container_port ?? 8080,
    restartPolicy: config.restart_policy ?? 'unless-stopped',
    pullPolicy: config.pull_policy ?? 'missing',
    registryAuth: config.registry_auth ?? null,
    healthIntervalMs: config.health_check_interval_ms ?? 1000,
    killGraceMs: (config.kill_grace_seconds ?? 5) * 1000,
    secretsDir: config.secrets_as_files ? (config.secrets_dir ?? '/run/secrets') : null,
  };
}
