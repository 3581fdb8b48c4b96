/**
 * `docker`: runs each revision as containers (`artifact.image`) through the Docker Engine
 * API, on the local engine or a remote one, and splits each deployment's traffic with the
 * same weighted router as local-process, in front of the containers' published ports.
 * Works against podman's Docker-compatible API too (see docs/deployers/docker.md).
 *
 * dockerode is imported in `create()`, never at module load, so other deployers and
 * `bp --version` do not pay for it.
 */
import { lazyDeployer } from './kit/lazy-deployer.js';
import { configSchema, type DockerConfig } from './docker/config.js';
import { checkDockerEnvironment } from './docker/env-checks.js';

export default lazyDeployer<DockerConfig>('docker', configSchema, {
  usesStateDir: true,
  // Engine limits (image reference, memory and CPU floors, env sizes) before the engine is asked.
  checks: [checkDockerEnvironment],
  create: async (config, ctx) => (await import('./docker/create.js')).createDockerDeployer(config, ctx),
});
