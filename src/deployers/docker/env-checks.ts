/**
 * What the docker deployer refuses at `bp validate` (the plugin's `checkEnvironment`), each at
 * the path of the offending value: the same pure checks stage and warm run before the engine
 * is asked (limits.ts), so an env file the engine would refuse never reaches it.
 */
import type { EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { classifyReferences } from '../../spec/index.js';
import { artifactPath, refusal, revisionsOf } from '../kit/env-checks.js';
import type { DockerConfig } from './config.js';
import { checkContainerEnv, checkImage, checkPublishIp, checkResources } from './limits.js';

/** At validate a value is a secret when it holds a reference (resolved only at apply). */
function holdsReference(value: string): boolean {
  return classifyReferences(value).references.length > 0;
}

export function checkDockerEnvironment(config: DockerConfig, env: Environment, instance: string): EnvironmentProblem[] {
  // A value holding a reference is checked once resolved, when the deployer is created or a verb runs.
  const problems = holdsReference(config.publish_ip ?? '')
    ? []
    : refusal(() => checkPublishIp(config), ['deployers', instance, 'config', 'publish_ip']);
  for (const site of revisionsOf(env, instance)) {
    const r = site.revision;
    const { image } = r.artifact;
    const imageProblems =
      image !== undefined && holdsReference(image)
        ? []
        : refusal(() => checkImage(r), [...site.path, 'artifact', ...(image === undefined ? [] : ['image'])]);
    const resources = (m: string) => [...site.path, 'resources', m.startsWith('resources.cpu') ? 'cpu' : 'memory_mb'];
    problems.push(...imageProblems, ...refusal(() => checkResources(r), resources));
    // A revision that runs no image has no container env to check.
    if (image === undefined) continue;
    const secretsAsFiles = config.secrets_as_files === true;
    problems.push(
      ...refusal(
        () => checkContainerEnv(r, secretsAsFiles, holdsReference),
        (m) => artifactPath(site, m),
      ),
    );
  }
  return problems;
}
