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
import { lazyDeployer } from './kit/lazy-deployer.js';
import { configSchema, type SshConfig } from './ssh/config.js';
import { checkSshEnvironment } from './ssh/env-checks.js';

export default lazyDeployer<SshConfig>('ssh', configSchema, {
  usesStateDir: true,
  // What a host would refuse (exec's argument and env limits), before any host is contacted.
  checks: [checkSshEnvironment],
  create: async (config, ctx) => (await import('./ssh/create.js')).createSshDeployer(config, ctx),
});
