/** Staging: the revision's image is on the engine, pulled (with registry auth) when missing. */
import { AbortedError, ProviderError } from '../../model/errors.js';
import type { DockerSettings } from './config.js';
import { engineError, engineMessage, statusOf, type Engine } from './engine.js';

export interface StagedImage {
  image: string;
  image_id: string;
}

async function inspectImage(engine: Engine, image: string, where: string): Promise<StagedImage | null> {
  try {
    const info = await engine.getImage(image).inspect();
    return { image, image_id: info.Id };
  } catch (e) {
    if (statusOf(e) === 404) return null;
    throw engineError(e, `inspecting image ${image}`, where);
  }
}

function authFor(settings: DockerSettings): Record<string, string> | undefined {
  const auth = settings.registryAuth;
  if (!auth) return undefined;
  const password = process.env[auth.password_env];
  if (password === undefined) {
    throw new ProviderError(
      `registry_auth.password_env names ${auth.password_env}, which is not set in bp's environment; export it before pulling`,
    );
  }
  return { username: auth.username, password, ...(auth.server_address ? { serveraddress: auth.server_address } : {}) };
}

/** Pulls `image`; the engine reports pull failures inside the progress stream, not as HTTP errors. */
async function pull(
  engine: Engine,
  image: string,
  settings: DockerSettings,
  where: string,
  signal: AbortSignal,
): Promise<void> {
  const authconfig = authFor(settings);
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await engine.pull(image, {
      ...(authconfig ? { authconfig } : {}),
      abortSignal: signal,
    })) as NodeJS.ReadableStream;
  } catch (e) {
    if (signal.aborted) throw new AbortedError(`pulling ${image} was aborted`);
    throw pullError(image, e, where);
  }
  const events = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
    engine.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) =>
      err ? reject(err) : resolve(out),
    );
  }).catch((e: unknown) => {
    if (signal.aborted) throw new AbortedError(`pulling ${image} was aborted`);
    throw pullError(image, e, where);
  });
  const failed = events.find((ev) => typeof ev.error === 'string');
  if (failed) throw pullError(image, new Error(failed.error), where);
}

function pullError(image: string, e: unknown, where: string): ProviderError {
  const mapped = engineError(e, `pulling ${image}`, where);
  // Unreachable engine: keep that message; anything else means the image cannot be had as named.
  if (mapped.retryable && statusOf(e) === undefined && (e as { code?: string }).code) return mapped;
  return new ProviderError(
    `image ${image} is not on the Docker engine at ${where} and could not be pulled: ${engineMessage(e)}; ` +
      'check the image name and tag, the registry credentials (registry_auth), or load the image onto the engine',
    { cause: e, retryable: statusOf(e) !== undefined && (statusOf(e) as number) >= 500 },
  );
}

export async function ensureImage(
  engine: Engine,
  image: string,
  settings: DockerSettings,
  where: string,
  signal: AbortSignal,
): Promise<StagedImage> {
  const present = await inspectImage(engine, image, where);
  if (present) return present;
  if (settings.pullPolicy === 'never') {
    throw new ProviderError(
      `image ${image} is not on the Docker engine at ${where} and pull_policy is "never"; load it onto the engine (docker load / podman import) first`,
    );
  }
  await pull(engine, image, settings, where, signal);
  const pulled = await inspectImage(engine, image, where);
  if (!pulled)
    throw new ProviderError(`the engine at ${where} reported pulling ${image} but does not have it afterwards`, {
      retryable: true,
    });
  return pulled;
}
