/**
 * What the ssh deployer refuses at `bp validate` (the plugin's `checkEnvironment`), each at the
 * path of the offending value, before any host is contacted: an artifact that is not a program,
 * an env string exec cannot pass, and a replica's start command longer than one argument of the
 * login shell may be. The limits and their sources: docs/deployers/ssh.md, "Limits".
 */
import { basename } from 'node:path';
import type { EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { notACommand } from '../command-artifact.js';
import { checkExecEnv } from '../kit/exec-limits.js';
import { artifactPath, refusal, revisionsOf, type RevisionSite } from '../kit/env-checks.js';
import { endpointLabel, remotePath, type SshConfig } from './config.js';
import { artifactDirIn, runDirIn } from './host.js';
import { START_REPLICA, startReplicaArgs } from './scripts.js';
import { scriptCommand } from './shell.js';

/** The highest port a replica can get: the longest `PORT` argument. */
const LONGEST_PORT = 65535;

/**
 * The start command of the revision's last replica on every host, as warm will send it, with
 * the remote home taken as `/home/USER` (warm checks the exact command before sending it).
 * Arguments that name uploaded files are rewritten to longer remote paths only at warm.
 */
function checkStartCommands(config: SshConfig, envId: string, site: RevisionSite): void {
  const { revision } = site;
  const id = revision.revision_id;
  const nodePath = config.node_path ?? 'node';
  for (const host of config.hosts) {
    const root = remotePath(`/home/${host.user}`, host.remote_dir ?? config.remote_dir ?? '~/.bp');
    const cwd = artifactDirIn(root, envId, id);
    const { command, binary } = revision.artifact;
    const argv = binary
      ? [`${cwd}/${basename(binary)}`]
      : (command ?? []).map((arg, i) => (i === 0 && arg === 'node' ? nodePath : arg));
    const last = Math.max(1, revision.resources.replicas) - 1;
    const args = startReplicaArgs(cwd, runDirIn(root, envId, id), last, LONGEST_PORT, argv);
    scriptCommand(START_REPLICA, args, `starting revision "${id}" on ${endpointLabel(host)}`);
  }
}

export function checkSshEnvironment(config: SshConfig, env: Environment, instance: string): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  for (const site of revisionsOf(env, instance)) {
    const { artifact } = site.revision;
    if (!artifact.binary && !(artifact.command && artifact.command[0])) {
      problems.push({ path: [...site.path, 'artifact'], message: notACommand(site.revision, 'ssh').message });
      continue;
    }
    problems.push(
      ...refusal(
        () => checkExecEnv(site.revision.revision_id, artifact.env ?? {}),
        (m) => artifactPath(site, m),
      ),
    );
    const argvPath = [...site.path, 'artifact', artifact.binary ? 'binary' : 'command'];
    problems.push(...refusal(() => checkStartCommands(config, env.environment_id, site), argvPath));
  }
  return problems;
}
