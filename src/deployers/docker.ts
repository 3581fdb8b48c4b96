/**
 * `docker`: runs each revision as containers (`artifact.image`) through the Docker Engine
 * API, on the local engine or a remote one, and splits each deployment's traffic with the
 * same weighted router as local-process, in front of the containers' published ports.
 * Works against podman's Docker-compatible API too (see docs/deployers/docker.md).
 *
 * dockerode is imported in `create()`, never at module load, so other deployers and
 * `bp --version` do not pay for it.
 */
import { mkdirSync } from 'node:fs';
import { defineDeployer } from '../model/deployer.js';
import { configSchema, type DockerConfig, settingsFrom } from './docker/config.js';
import { DockerDeployer } from './docker/deployer.js';
import { connectEngine, describeEngine } from './docker/engine.js';

export { configSchema, type DockerConfig } from './docker/config.js';

export default defineDeployer<DockerConfig>({
  type: 'docker',
  apiVersion: 1,
  configSchema,
  async create(config, ctx) {
    mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
    const engine = await connectEngine(config);
    return new DockerDeployer({
      engine,
      settings: settingsFrom(config),
      where: describeEngine(config),
      stateDir: ctx.stateDir,
      logger: ctx.logger,
    });
  },
});
