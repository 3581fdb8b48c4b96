/**
 * The Docker Engine API client (dockerode, loaded on first use so bp never loads it for
 * other deployers), and the translation of engine failures into provider errors an
 * operator can act on.
 */
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { ProviderError } from '../../model/errors.js';
import { importPackage } from '../kit/sdk.js';
import type { DockerConfig } from './config.js';

export type Engine = Dockerode;

/** Where the engine is, for messages (never includes credentials). */
export function describeEngine(config: DockerConfig): string {
  if (config.socket_path) return `unix://${config.socket_path}`;
  if (config.host)
    return `${config.protocol ?? 'http'}://${config.host}:${config.port ?? (config.protocol === 'https' ? 2376 : 2375)}`;
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

function readTlsFile(path: string | undefined, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ProviderError(`cannot read the Docker engine ${what} file ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

export async function connectEngine(config: DockerConfig): Promise<Engine> {
  const { default: Docker } = await importPackage<{ default: typeof Dockerode }>('dockerode', {
    deployer: 'docker',
    what: 'package',
    install: 'npm install dockerode',
  });
  if (config.socket_path) return new Docker({ socketPath: config.socket_path });
  if (config.host) {
    const protocol = config.protocol ?? 'http';
    return new Docker({
      host: config.host,
      port: config.port ?? (protocol === 'https' ? 2376 : 2375),
      protocol,
      ca: readTlsFile(config.ca_file, 'CA'),
      cert: readTlsFile(config.cert_file, 'certificate'),
      key: readTlsFile(config.key_file, 'key'),
    });
  }
  // No explicit address: docker-modem honours DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
  return new Docker();
}

interface EngineFailure {
  statusCode?: number;
  code?: string;
  reason?: string;
  json?: { message?: string; cause?: string } | null;
  message?: string;
}

const UNREACHABLE = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** The engine's own words, without dockerode's "(HTTP code N) reason - " prefix. */
export function engineMessage(e: unknown): string {
  const f = e as EngineFailure;
  const text = f.json?.message ?? f.message ?? String(e);
  return text.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim() || f.reason || `HTTP ${f.statusCode}`;
}

export function statusOf(e: unknown): number | undefined {
  return (e as EngineFailure)?.statusCode;
}

/** Podman answers a name conflict with 500 and "already in use" where Docker answers 409. */
export function isNameConflict(e: unknown): boolean {
  return statusOf(e) === 409 || /already in use/i.test(engineMessage(e));
}

/**
 * Maps a failed engine call to a ProviderError. `doing` completes the sentence
 * "... while <doing>", e.g. `creating container bp-demo-web-v1-0`.
 */
export function engineError(e: unknown, doing: string, where: string): ProviderError {
  if (e instanceof ProviderError) return e;
  const f = e as EngineFailure;
  if (f?.code === 'EACCES') {
    return new ProviderError(
      `bp may not use the Docker engine at ${where} (permission denied while ${doing}): run bp as a user allowed to use its socket`,
      { cause: e },
    );
  }
  if (f?.code && UNREACHABLE.has(f.code)) {
    return new ProviderError(
      `the Docker engine at ${where} is unreachable (${f.code}) while ${doing}: start the engine ` +
        '(dockerd, or `podman system service`) or point bp at it with DOCKER_HOST or the deployer config socket_path / host',
      { cause: e, retryable: true },
    );
  }
  const status = f?.statusCode;
  const said = engineMessage(e);
  if (status === undefined) {
    return new ProviderError(`Docker engine call failed while ${doing}: ${said}`, { cause: e, retryable: true });
  }
  if (isNameConflict(e)) {
    return new ProviderError(
      `name conflict while ${doing}: ${said}; remove or rename the container that holds the name (bp did not create it)`,
      { cause: e },
    );
  }
  // 5xx is the engine's trouble and may pass; 4xx means the request itself cannot succeed.
  return new ProviderError(`Docker engine refused ${doing} (HTTP ${status}): ${said}`, {
    cause: e,
    retryable: status >= 500,
  });
}
