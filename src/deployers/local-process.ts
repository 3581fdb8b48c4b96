/**
 * `local-process`, the embedded default deployer: runs each revision as detached processes
 * on this machine and splits each deployment's traffic with a weighted router process on
 * the deployment's `listen` address. No cloud, container engine or account needed.
 *
 * Config (`deployers.X.config`), all optional:
 *   bind_host                  interface replicas listen on (default 127.0.0.1)
 *   kill_grace_seconds         SIGTERM-to-SIGKILL grace when stopping (default 5)
 *   health_check_interval_ms   how often routers probe each backend (default 1000)
 */
import { lazyDeployer } from './kit/lazy-deployer.js';
import { checkLocalProcessEnvironment } from './local-process/env-checks.js';

export interface LocalProcessConfig {
  bind_host?: string;
  kill_grace_seconds?: number;
  health_check_interval_ms?: number;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bind_host: { type: 'string', default: '127.0.0.1', description: 'Interface replicas listen on.' },
    kill_grace_seconds: { type: 'number', minimum: 0, default: 5, description: 'Grace between SIGTERM and SIGKILL.' },
    health_check_interval_ms: {
      type: 'integer',
      minimum: 100,
      default: 1000,
      description: 'Router backend probe interval.',
    },
  },
};

// The implementation loads only when a deployer is created: `bp plan` and `bp validate` need
// just the schema, and the router, replica and process modules would cost them start-up time.
export default lazyDeployer<LocalProcessConfig>('local-process', configSchema, {
  usesStateDir: true,
  // What exec would refuse (argument and env string sizes), before anything is spawned.
  checks: [checkLocalProcessEnvironment],
  async create(config, ctx) {
    const [{ LocalProcessDeployer }, { LocalStore }] = await Promise.all([
      import('./local-process/deployer.js'),
      import('./local-process/store.js'),
    ]);
    return new LocalProcessDeployer(
      new LocalStore(ctx.stateDir),
      {
        bindHost: config.bind_host ?? '127.0.0.1',
        killGraceMs: (config.kill_grace_seconds ?? 5) * 1000,
        healthIntervalMs: config.health_check_interval_ms ?? 1000,
      },
      ctx.logger,
    );
  },
});
