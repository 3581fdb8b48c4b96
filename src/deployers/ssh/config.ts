/** The ssh deployer's configuration: its JSON Schema and the settings derived from it. */
import { homedir } from 'node:os';
import { resolve } from 'node:path';

export interface SshEndpointConfig {
  host: string;
  port?: number;
  user: string;
  /** Path of the client's private key (OpenSSH or PEM format). */
  private_key_path: string;
  /** Name of an environment variable holding the key's passphrase (never the passphrase itself). */
  passphrase_env?: string;
  /** Pinned host key: `SHA256:...` fingerprint, or the public key (`ssh-ed25519 AAAA...`). */
  host_key?: string;
  /** A known_hosts file to verify the host key against (instead of host_key). */
  known_hosts?: string;
}

export interface SshHostConfig extends SshEndpointConfig {
  /** Overrides the top-level remote_dir for this host. */
  remote_dir?: string;
  /** Interface this host's routers bind, replacing the host part of each deployment's listen. */
  listen_host?: string;
}

export interface SshConfig {
  hosts: SshHostConfig[];
  jump_host?: SshEndpointConfig;
  remote_dir?: string;
  node_path?: string;
  bind_host?: string;
  connect_timeout_seconds?: number;
  keepalive_interval_seconds?: number;
  command_timeout_seconds?: number;
  kill_grace_seconds?: number;
  health_check_interval_ms?: number;
  max_channels_per_host?: number;
}

const endpointProperties = {
  host: { type: 'string', minLength: 1, description: 'Host name or address.' },
  port: { type: 'integer', minimum: 1, maximum: 65535, default: 22 },
  user: { type: 'string', minLength: 1 },
  private_key_path: { type: 'string', minLength: 1, description: 'Client private key file (~ expands locally).' },
  passphrase_env: {
    type: 'string',
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    description: 'Env var holding the key passphrase.',
  },
  host_key: {
    type: 'string',
    minLength: 1,
    description: 'Pinned host key: SHA256:<fingerprint> or "<type> <base64>".',
  },
  known_hosts: { type: 'string', minLength: 1, description: 'known_hosts file to verify the host key against.' },
};

// Host keys are always verified: each endpoint must pin a key or name a known_hosts file.
const pinned = { anyOf: [{ required: ['host_key'] }, { required: ['known_hosts'] }] };

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    hosts: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['host', 'user', 'private_key_path'],
        properties: {
          ...endpointProperties,
          remote_dir: { type: 'string', minLength: 1 },
          listen_host: { type: 'string', minLength: 1 },
        },
        ...pinned,
      },
    },
    jump_host: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'user', 'private_key_path'],
      properties: endpointProperties,
      ...pinned,
    },
    remote_dir: {
      type: 'string',
      minLength: 1,
      default: '~/.bp',
      description: 'Where artifacts and records live on each host.',
    },
    node_path: {
      type: 'string',
      minLength: 1,
      default: 'node',
      description: 'Node.js on the hosts (runs the router).',
    },
    bind_host: {
      type: 'string',
      minLength: 1,
      default: '127.0.0.1',
      description: 'Interface replicas listen on, on each host.',
    },
    connect_timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 10 },
    keepalive_interval_seconds: { type: 'number', exclusiveMinimum: 0, default: 5 },
    command_timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 60 },
    kill_grace_seconds: { type: 'number', minimum: 0, default: 5 },
    health_check_interval_ms: { type: 'integer', minimum: 100, default: 1000 },
    max_channels_per_host: {
      type: 'integer',
      minimum: 1,
      maximum: 9,
      default: 8,
      description: 'Below sshd MaxSessions (10).',
    },
  },
};

export interface SshSettings {
  remoteDir: string;
  nodePath: string;
  bindHost: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  commandTimeoutMs: number;
  killGraceMs: number;
  healthIntervalMs: number;
  maxChannels: number;
}

export function settingsOf(config: SshConfig): SshSettings {
  return {
    remoteDir: config.remote_dir ?? '~/.bp',
    nodePath: config.node_path ?? 'node',
    bindHost: config.bind_host ?? '127.0.0.1',
    connectTimeoutMs: (config.connect_timeout_seconds ?? 10) * 1000,
    keepaliveIntervalMs: (config.keepalive_interval_seconds ?? 5) * 1000,
    commandTimeoutMs: (config.command_timeout_seconds ?? 60) * 1000,
    killGraceMs: (config.kill_grace_seconds ?? 5) * 1000,
    healthIntervalMs: config.health_check_interval_ms ?? 1000,
    maxChannels: config.max_channels_per_host ?? 8,
  };
}

/** `user@host:port`: how hosts are named in messages and outputs. */
export function endpointLabel(e: SshEndpointConfig): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return `${e.user}@${host}:${e.port ?? 22}`;
}

/** Local paths in the config: `~` is the home directory, relative paths resolve against the cwd. */
export function localPath(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return resolve(path);
}

/** A remote path: `~` and relative paths are under the remote user's home. */
export function remotePath(home: string, path: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
  if (path.startsWith('/')) return path;
  return `${home.replace(/\/+$/, '')}/${path}`;
}
