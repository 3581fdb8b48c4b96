/**
 * What a Docker engine refuses that an env file can reach, checked before the engine is asked:
 * pure checks (the image reference, the memory and CPU floors, exec's env limits, the secret
 * file names) run at `bp validate` (env-checks.ts) and again before a container is created;
 * the CPU ceiling depends on the engine, so stage and warm read its CPU count first. The limits
 * and their sources: docs/deployers/docker.md, "Limits".
 */
import { isIP } from 'node:net';
import type { DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { checkExecEnv } from '../kit/exec-limits.js';
import { checkImageReference } from '../kit/image-reference.js';
import type { DockerConfig } from './config.js';
import { engineError, type Engine } from './engine.js';

/** Docker refuses a memory limit under 6 MB ("Minimum memory limit allowed is 6MB"). */
export const MIN_MEMORY_MB = 6;

/**
 * `NanoCpus` becomes a CFS quota over Docker's 100 ms period, and the kernel's smallest quota
 * is 1 ms: 0.01 CPUs. Docker states the same range ("from 0.01 to N.00").
 */
export const MIN_CPUS = 0.01;

/**
 * A file name is at most NAME_MAX (255) bytes on Linux filesystems, tmpfs included
 * (secrets_as_files writes one file per secret, named after its variable).
 */
export const MAX_SECRET_FILE_NAME_BYTES = 255;

/** The revision's image; throws when the docker deployer cannot run it or the engine cannot parse it. */
export function checkImage(revision: DeployerRevision): string {
  const { image } = revision.artifact;
  const id = revision.revision_id;
  if (image === undefined) {
    throw new ProviderError(
      `revision "${id}" has no artifact.image; the docker deployer runs images (use local-process or ssh for commands)`,
    );
  }
  checkImageReference(id, image);
  return image;
}

/** The memory and CPU floors, throwing with the field named first ("resources.cpu ..."). */
export function checkResources(revision: DeployerRevision): void {
  const { cpu, memory_mb: memoryMb } = revision.resources;
  const id = revision.revision_id;
  if (memoryMb > 0 && memoryMb < MIN_MEMORY_MB) {
    throw new ProviderError(
      `resources.memory_mb ${memoryMb} of revision "${id}" is below Docker's minimum memory limit of ${MIN_MEMORY_MB} MB`,
    );
  }
  if (cpu > 0 && Math.round(cpu * 1e9) < MIN_CPUS * 1e9) {
    throw new ProviderError(
      `resources.cpu ${cpu} of revision "${id}" is below ${MIN_CPUS}, the smallest CPU limit a container can have (a 1 ms CFS quota per 100 ms)`,
    );
  }
}

/**
 * The env as the container gets it: exec's limits on each `NAME=value`, and with
 * `secrets_as_files` a name that fits a file name. `isSecret` says which values become files
 * (at validate: those holding a reference; before create: those the redactor knows).
 */
export function checkContainerEnv(
  revision: DeployerRevision,
  secretsAsFiles: boolean,
  isSecret: (value: string) => boolean,
): void {
  const env = revision.artifact.env ?? {};
  // With secrets_as_files a secret becomes a file (no exec limit) and only NAME_FILE stays in Env.
  const inEnv = secretsAsFiles ? Object.fromEntries(Object.entries(env).filter(([, v]) => !isSecret(v))) : env;
  checkExecEnv(revision.revision_id, inEnv);
  if (!secretsAsFiles) return;
  for (const [name, value] of Object.entries(env)) {
    if (isSecret(value) && Buffer.byteLength(name) > MAX_SECRET_FILE_NAME_BYTES) {
      throw new ProviderError(
        `revision "${revision.revision_id}": env "${name}" holds a secret, and secrets_as_files writes it to a file of that name, ` +
          `but a file name is at most ${MAX_SECRET_FILE_NAME_BYTES} bytes (NAME_MAX)`,
      );
    }
  }
}

/** Docker binds published ports to `HostIp`, an IP address; a host name is no bind address. */
export function checkPublishIp(config: DockerConfig): void {
  const ip = config.publish_ip;
  if (ip !== undefined && ip !== '' && isIP(ip) === 0) {
    throw new ProviderError(
      `publish_ip "${ip}" is not an IP address; Docker binds published ports to an IP address (127.0.0.1, 0.0.0.0, ::1 ...)`,
    );
  }
}

/** The engine's CPU count bounds `resources.cpu` ("range of CPUs is from 0.01 to N.00"). */
export async function checkEngineCpus(engine: Engine, revision: DeployerRevision, where: string): Promise<void> {
  const { cpu } = revision.resources;
  if (!(cpu > 1)) return;
  let ncpu: unknown;
  try {
    ncpu = ((await engine.info()) as { NCPU?: unknown }).NCPU;
  } catch (e) {
    throw engineError(e, "reading the engine's CPU count", where);
  }
  if (typeof ncpu === 'number' && ncpu > 0 && Math.round(cpu * 1e9) > ncpu * 1e9) {
    throw new ProviderError(
      `resources.cpu ${cpu} of revision "${revision.revision_id}" is more than the ${ncpu} CPUs of the Docker engine at ${where}, which refuses it; lower resources.cpu`,
    );
  }
}
