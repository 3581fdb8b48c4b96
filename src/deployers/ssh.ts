/**
 * `ssh`: deploys to plain Linux hosts (bare metal, VMs) over SSH. Each revision's artifact
 * is uploaded over SFTP and verified by checksum, runs as detached processes on every host,
 * and each deployment's traffic enters through bp's router shipped to every host (hosts need
 * Node.js). Health checks and router control go through the SSH connection. Host keys are
 * always verified. See docs/deployers/ssh.md.
 *
 * Config (`deployers.X.config`): `hosts: [{ host, port, user, private_key_path, host_key |
 * known_hosts, remote_dir?, listen_host? }]`, optional `jump_host`, `remote_dir` (~/.bp),
 * `node_path` (node), `bind_host`, timeouts; see `configSchema`.
 */
import { mkdirSync } from 'node:fs';
import { defineDeployer } from '../model/deployer.js';
import { configSchema, endpointLabel, type SshConfig, settingsOf } from './ssh/config.js';
import { SshDeployer } from './ssh/deployer.js';
import { Host } from './ssh/host.js';
import { hostKeyCheck } from './ssh/host-keys.js';
import { ConnectionPool, loadSsh2 } from './ssh/pool.js';

export { configSchema };
export type { SshConfig };

export default defineDeployer<SshConfig>({
  type: 'ssh',
  apiVersion: 1,
  configSchema,
  async create(config, ctx) {
    mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
    const ssh2 = await loadSsh2();
    const settings = settingsOf(config);
    const labels = config.hosts.map(endpointLabel);
    const twice = labels.find((l, i) => labels.indexOf(l) !== i);
    if (twice) throw new Error(`host ${twice} is listed twice in the ssh deployer's hosts`);
    // Surface a malformed pin now rather than on the first verb.
    for (const e of [...config.hosts, ...(config.jump_host ? [config.jump_host] : [])])
      hostKeyCheck(e, endpointLabel(e));
    const pool = new ConnectionPool(config.jump_host, settings, ctx.logger, async () => ssh2);
    const hosts = config.hosts.map((h, i) => new Host(h, i, pool, settings));
    return new SshDeployer(hosts, pool, ctx.logger, [ctx.stateDir]);
  },
});
