/**
 * What bp knows of a container comes from the engine alone: labels say which environment,
 * deployment, revision and replica it serves, so containers removed or started outside bp
 * show up as drift, and bp keeps no container records of its own.
 */
import type Dockerode from 'dockerode';
import type { DeployerDeployment, DeployerEnvironment, DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import type { DockerSettings } from './config.js';
import { engineError, statusOf, type Engine } from './engine.js';
import { secretsTar, splitSecrets } from './secret-files.js';

export const LABEL = {
  environment: 'bp.environment',
  deployment: 'bp.deployment',
  revision: 'bp.revision',
  replica: 'bp.replica',
  /** The port the application listens on: inside the container (bridge) or on the host (host mode). */
  port: 'bp.port',
  network: 'bp.network',
} as const;

export interface RevisionContainer {
  id: string;
  name: string;
  deploymentId: string;
  revisionId: string;
  index: number;
  running: boolean;
  /** Engine state: created, running, exited, ... */
  state: string;
  /** Base URL bp reaches the application at; null when it is not running or not published. */
  url: string | null;
}

export interface ContainerDeps {
  engine: Engine;
  settings: DockerSettings;
  /** The engine's address, for messages. */
  where: string;
}

export function containerName(environmentId: string, revisionId: string, index: number): string {
  return `bp-${environmentId}-${revisionId}-${index}`;
}

function urlFor(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function fromSummary(c: Dockerode.ContainerInfo, settings: DockerSettings): RevisionContainer {
  const labels = c.Labels ?? {};
  const running = c.State === 'running';
  const appPort = Number(labels[LABEL.port]);
  let hostPort: number | null = null;
  if (labels[LABEL.network] === 'host') hostPort = Number.isInteger(appPort) && appPort > 0 ? appPort : null;
  else hostPort = (c.Ports ?? []).find((p) => p.PrivatePort === appPort && p.PublicPort)?.PublicPort ?? null;
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
    deploymentId: labels[LABEL.deployment] ?? '',
    revisionId: labels[LABEL.revision] ?? '',
    index: Number(labels[LABEL.replica] ?? -1),
    running,
    state: c.State,
    url: running && hostPort ? urlFor(settings.endpointHost, hostPort) : null,
  };
}

/** Every container of the environment (any state), optionally only one revision's; sorted by revision, replica. */
export async function listContainers(
  deps: ContainerDeps,
  environmentId: string,
  revisionId?: string,
): Promise<RevisionContainer[]> {
  const label = [`${LABEL.environment}=${environmentId}`];
  if (revisionId) label.push(`${LABEL.revision}=${revisionId}`);
  let found: Dockerode.ContainerInfo[];
  try {
    found = await deps.engine.listContainers({ all: true, filters: { label } });
  } catch (e) {
    throw engineError(e, `listing the containers of environment ${environmentId}`, deps.where);
  }
  return found
    .map((c) => fromSummary(c, deps.settings))
    .sort((a, b) => a.revisionId.localeCompare(b.revisionId) || a.index - b.index);
}

/** The running container as the engine describes it after start (its published port is known only then). */
export async function describeContainer(deps: ContainerDeps, id: string): Promise<RevisionContainer | null> {
  let info: Dockerode.ContainerInspectInfo;
  try {
    info = await deps.engine.getContainer(id).inspect();
  } catch (e) {
    if (statusOf(e) === 404) return null;
    throw engineError(e, `inspecting container ${id.slice(0, 12)}`, deps.where);
  }
  const labels = info.Config.Labels ?? {};
  const ports = info.NetworkSettings?.Ports ?? {};
  const appPort = Number(labels[LABEL.port]);
  const published = ports[`${appPort}/tcp`]?.[0]?.HostPort;
  const summary = {
    Id: info.Id,
    Names: [info.Name],
    Labels: labels,
    State: info.State.Running ? 'running' : info.State.Status,
    Ports: published ? [{ IP: '', PrivatePort: appPort, PublicPort: Number(published), Type: 'tcp' }] : [],
  } as unknown as Dockerode.ContainerInfo;
  return fromSummary(summary, deps.settings);
}

export interface CreateRequest {
  environment: DeployerEnvironment;
  deployment: DeployerDeployment;
  revision: DeployerRevision;
  index: number;
  /** Host mode: the free host port the application gets as $PORT. */
  hostPort: number | null;
}

function restartPolicy(settings: DockerSettings): { Name: string; MaximumRetryCount?: number } {
  if (settings.restartPolicy === 'no') return { Name: '' };
  if (settings.restartPolicy === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: 5 };
  return { Name: settings.restartPolicy };
}

/**
 * The container body for one replica. Env values may be secrets: they go to the engine only,
 * never to logs; with `secrets_as_files` they are returned apart as `files`, for the tmpfs.
 */
export function containerSpec(
  deps: ContainerDeps,
  req: CreateRequest,
): Dockerode.ContainerCreateOptions & { files?: Record<string, string> } {
  const { settings } = deps;
  const { revision, deployment } = req;
  const host = settings.networkMode === 'host';
  const appPort = host ? (req.hostPort as number) : settings.containerPort;
  // HOST first so an image may be told otherwise; PORT last because bp publishes exactly that port.
  const split = settings.secretsDir ? splitSecrets(revision.artifact.env, settings.secretsDir) : null;
  const appEnv = split ? split.env : revision.artifact.env;
  const env = { HOST: host ? settings.publishIp : '0.0.0.0', ...appEnv, PORT: String(appPort) };
  const { cpu, memory_mb: memoryMb, gpu } = revision.resources;
  const hostConfig: Dockerode.HostConfig = {
    NetworkMode: settings.networkMode,
    RestartPolicy: restartPolicy(settings),
    ...(cpu > 0 ? { NanoCpus: Math.round(cpu * 1e9) } : {}),
    ...(memoryMb > 0 ? { Memory: Math.round(memoryMb * 1024 * 1024) } : {}),
    ...(gpu > 0 ? { DeviceRequests: [{ Driver: '', Count: gpu, Capabilities: [['gpu']] }] } : {}),
    ...(host ? {} : { PortBindings: { [`${appPort}/tcp`]: [{ HostIp: settings.publishIp, HostPort: '' }] } }),
    // Always mounted when enabled (even empty) so the layout does not depend on the values.
    ...(settings.secretsDir ? { Tmpfs: { [settings.secretsDir]: 'rw,nosuid,nodev,noexec,mode=0755' } } : {}),
  };
  return {
    name: containerName(req.environment.environment_id, revision.revision_id, req.index),
    Image: revision.artifact.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      [LABEL.environment]: req.environment.environment_id,
      [LABEL.deployment]: deployment.deployment_id,
      [LABEL.revision]: revision.revision_id,
      [LABEL.replica]: String(req.index),
      [LABEL.port]: String(appPort),
      [LABEL.network]: settings.networkMode,
    },
    ...(host ? {} : { ExposedPorts: { [`${appPort}/tcp`]: {} } }),
    HostConfig: hostConfig,
    ...(split ? { files: split.files } : {}),
  };
}

/** Creates and starts one replica; on a failed start the created container is removed again. */
export async function createAndStart(deps: ContainerDeps, req: CreateRequest): Promise<RevisionContainer> {
  const { files, ...spec } = containerSpec(deps, req);
  const name = spec.name as string;
  let container: Dockerode.Container;
  try {
    container = await deps.engine.createContainer(spec);
  } catch (e) {
    if (statusOf(e) === 404) {
      throw new ProviderError(
        `image ${spec.Image} is not on the Docker engine at ${deps.where} (creating ${name}); stage the revision again to pull it`,
        { cause: e },
      );
    }
    throw engineError(e, `creating container ${name}`, deps.where);
  }
  if (files && deps.settings.secretsDir) await putSecretFiles(deps, container, name, files);
  try {
    await container.start();
  } catch (e) {
    // 304: already running, which is what we want.
    if (statusOf(e) !== 304) {
      await removeContainer(deps, container.id).catch(() => undefined);
      throw engineError(e, `starting container ${name}`, deps.where);
    }
  }
  return mustDescribe(deps, container.id, name);
}

/**
 * Writes the secret files before the first start. The engine mounts the tmpfs at start and
 * copies what lies beneath its mount point into it (podman's default tmpcopyup), so the files
 * are in the tmpfs on every start; see docs/deployers/docker.md for what stays on the engine.
 */
async function putSecretFiles(
  deps: ContainerDeps,
  container: Dockerode.Container,
  name: string,
  files: Record<string, string>,
): Promise<void> {
  try {
    await container.putArchive(secretsTar(files), { path: deps.settings.secretsDir as string });
  } catch (e) {
    await removeContainer(deps, container.id).catch(() => undefined);
    throw engineError(e, `writing the secret files of container ${name}`, deps.where);
  }
}

async function mustDescribe(deps: ContainerDeps, id: string, name: string): Promise<RevisionContainer> {
  const c = await describeContainer(deps, id);
  if (!c) throw new ProviderError(`container ${name} disappeared right after it was started`, { retryable: true });
  return c;
}

/** SIGTERM, then SIGKILL after `graceSeconds`; "already stopped" (304) and "gone" (404) are success. */
export async function stopContainer(deps: ContainerDeps, id: string, graceSeconds: number): Promise<void> {
  try {
    await deps.engine.getContainer(id).stop({ t: Math.max(0, Math.ceil(graceSeconds)) });
  } catch (e) {
    const status = statusOf(e);
    if (status === 304 || status === 404) return;
    throw engineError(e, `stopping container ${id.slice(0, 12)}`, deps.where);
  }
}

/** Force-removes a container; already gone is success. */
export async function removeContainer(deps: ContainerDeps, id: string): Promise<void> {
  try {
    await deps.engine.getContainer(id).remove({ force: true, v: true });
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `removing container ${id.slice(0, 12)}`, deps.where);
  }
}

/** Splits the engine's multiplexed log stream (8-byte frame headers) into text; TTY logs are plain. */
function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length && buf[at] <= 2 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  if (at === 0) return buf.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}

/** The container's last log lines, for failure messages; never throws. */
export async function logTail(deps: ContainerDeps, id: string, lines = 10): Promise<string> {
  try {
    const out = (await deps.engine
      .getContainer(id)
      .logs({ stdout: true, stderr: true, follow: false, tail: lines })) as unknown;
    const text = Buffer.isBuffer(out) ? demuxLogs(out) : String(out);
    return text.trimEnd() || '(no output)';
  } catch (e) {
    return `(logs unavailable: ${(e as Error).message})`;
  }
}
