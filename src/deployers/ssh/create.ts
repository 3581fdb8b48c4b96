/** Builds the ssh deployer from its config: ssh2 loads here, on first use, never at validate. */
import type { DeployerContext } from '../../model/deployer.js';
import { endpointLabel, type SshConfig, settingsOf } from './config.js';
import { SshDeployer } from './deployer.js';
import { Host } from './host.js';
import { hostKeyCheck } from './host-keys.js';
import { ConnectionPool, loadSsh2 } from './pool.js';

export async function createSshDeployer(config: SshConfig, ctx: DeployerContext): Promise<SshDeployer> {
  const ssh2 = await loadSsh2();
  const settings = settingsOf(config);
  const labels = config.hosts.map(endpointLabel);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice) throw new Error(`host ${twice} is listed twice in the ssh deployer's hosts`);
  // Surface a malformed pin now rather than on the first verb.
  for (const e of [...config.hosts, ...(config.jump_host ? [config.jump_host] : [])]) hostKeyCheck(e, endpointLabel(e));
  const pool = new ConnectionPool(config.jump_host, settings, ctx.logger, async () => ssh2);
  const hosts = config.hosts.map((h, i) => new Host(h, i, pool, settings));
  return new SshDeployer(hosts, pool, ctx.logger, [ctx.stateDir]);
}
