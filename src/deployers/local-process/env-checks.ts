/**
 * What local-process refuses at `bp validate` (the plugin's `checkEnvironment`), each at the
 * path of the offending value: an artifact that is not a program, and what exec refuses (an env
 * string or a command word over 131,071 bytes). The same checks run before a replica is spawned
 * (command.ts). Limits and sources: docs/deployers/local-process.md, "Limits".
 */
import type { EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { notACommand } from '../command-artifact.js';
import { artifactPath, refusal, revisionsOf } from '../kit/env-checks.js';
import { argvIndex, checkExecArgv, checkExecEnv } from '../kit/exec-limits.js';

export function checkLocalProcessEnvironment(
  _config: unknown,
  env: Environment,
  instance: string,
): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  for (const site of revisionsOf(env, instance)) {
    const { artifact, revision_id: id } = site.revision;
    const argv = artifact.command ?? (artifact.binary ? [artifact.binary] : null);
    if (!argv || !argv[0]) {
      problems.push({ path: [...site.path, 'artifact'], message: notACommand(site.revision, 'local-process').message });
      continue;
    }
    const argvAt = (m: string): Array<string | number> => {
      const i = argvIndex(m);
      if (!artifact.command) return [...site.path, 'artifact', 'binary'];
      return i === null ? [...site.path, 'artifact', 'command'] : [...site.path, 'artifact', 'command', i];
    };
    problems.push(...refusal(() => checkExecArgv(id, argv), argvAt));
    problems.push(
      ...refusal(
        () => checkExecEnv(id, artifact.env ?? {}),
        (m) => artifactPath(site, m),
      ),
    );
  }
  return problems;
}
