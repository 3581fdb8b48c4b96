/**
 * A deployer plugin declared as data. `bp validate` and `bp plan` read a plugin's type,
 * config schema, weight granularity and checks; only `apply` (and the bench) call `create`.
 * So a registration holds just that data and imports its implementation, and through it any
 * SDK, inside `create`: `bp --version` and local-only runs never load a cloud SDK, and each SDK
 * loader names the package to install when it is missing. See docs/writing-a-deployer.md.
 */
import { mkdirSync } from 'node:fs';
import {
  DEPLOYER_API_VERSION,
  type Deployer,
  type DeployerContext,
  type DeployerPlugin,
  type EnvironmentProblem,
} from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';

/** One pure check `bp validate` runs on the deployments a deployer instance serves. */
export type DeployerCheck<Config> = (config: Config, env: Environment, instance: string) => EnvironmentProblem[];

export interface DeployerDeclaration<Config> extends Omit<
  DeployerPlugin<Config>,
  'type' | 'apiVersion' | 'configSchema' | 'checkEnvironment'
> {
  /** The plugin's `checkEnvironment`: these checks' problems, in this order. */
  checks?: ReadonlyArray<DeployerCheck<Config>>;
  /** The deployer keeps files under `ctx.stateDir`: it is created (mode 0700) before `create` runs. */
  usesStateDir?: boolean;
}

/**
 * The plugin of type `type` whose `deployers.X.config` `configSchema` describes: the current
 * API version, and the declaration's checks in one `checkEnvironment`.
 */
export function lazyDeployer<Config>(
  type: string,
  configSchema: Record<string, unknown>,
  declaration: DeployerDeclaration<Config>,
): DeployerPlugin<Config> {
  const { checks, usesStateDir, create, ...plugin } = declaration;
  return {
    type,
    apiVersion: DEPLOYER_API_VERSION,
    configSchema,
    ...plugin,
    ...(checks && {
      checkEnvironment: (config: Config, env: Environment, instance: string) =>
        checks.flatMap((check) => check(config, env, instance)),
    }),
    create(config: Config, ctx: DeployerContext): Deployer | Promise<Deployer> {
      if (usesStateDir) mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
      return create(config, ctx);
    },
  };
}

/**
 * A VM deployer (aws-ec2, gcp-compute, azure-vm): its VMs fetch their revisions'
 * `${secret:...}` values at boot with the VM's own identity (docs/secrets.md), so bp hands it
 * the references unresolved. Its `checks` must include the boot-script rules that refuse the
 * references a VM cannot fetch.
 */
export function vmDeployer<Config>(
  type: string,
  configSchema: Record<string, unknown>,
  declaration: DeployerDeclaration<Config>,
): DeployerPlugin<Config> {
  return lazyDeployer(type, configSchema, { ...declaration, fetchesSecretsItself: true });
}
