/** Builds the docker deployer from its config: dockerode loads here, on first use, never at validate. */
import type { DeployerContext } from '../../model/deployer.js';
import { type DockerConfig, settingsFrom } from './config.js';
import { DockerDeployer } from './deployer.js';
import { connectEngine, describeEngine } from './engine.js';
import { checkPublishIp } from './limits.js';

export async function createDockerDeployer(config: DockerConfig, ctx: DeployerContext): Promise<DockerDeployer> {
  checkPublishIp(config);
  return new DockerDeployer({
    engine: await connectEngine(config),
    settings: settingsFrom(config),
    where: describeEngine(config),
    stateDir: ctx.stateDir,
    logger: ctx.logger,
  });
}
