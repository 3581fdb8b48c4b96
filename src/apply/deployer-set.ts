/**
 * Deployer instances of one environment, created on first use and closed together. Each
 * instance's config is checked against its plugin's `configSchema` (defaults applied) before
 * `create`, and each gets a private state directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Deployer, DeployerPlugin, Logger } from '../model/deployer.js';
import type { DeployerInstance } from '../model/environment.js';
import { BpError } from '../model/errors.js';
import { loadDeployerPlugin } from '../deployers/registry.js';
import { configValidatorWithDefaults } from '../spec/deployer-configs.js';

export interface DeployerSetOptions {
  environmentId: string;
  instances: Record<string, DeployerInstance>;
  /** Where relative plugin paths resolve (the env file's directory). */
  baseDir: string;
  stateDir: string;
  logger: Logger;
}

export class DeployerSet {
  private readonly created = new Map<string, Promise<Deployer>>();

  constructor(private readonly opts: DeployerSetOptions) {}

  names(): string[] {
    return Object.keys(this.opts.instances).sort();
  }

  plugin(name: string): Promise<DeployerPlugin> {
    const inst = this.instance(name);
    return loadDeployerPlugin(inst.type, this.opts.baseDir);
  }

  get(name: string): Promise<Deployer> {
    let d = this.created.get(name);
    if (!d) {
      d = this.create(name);
      this.created.set(name, d);
      d.catch(() => this.created.delete(name));
    }
    return d;
  }

  async close(): Promise<void> {
    const all = [...this.created.values()];
    this.created.clear();
    await Promise.all(
      all.map(async (p) => {
        try {
          await (await p).close?.();
        } catch {
          // A deployer that fails to close must not turn a finished apply into a failure.
        }
      }),
    );
  }

  private instance(name: string): DeployerInstance {
    const inst = this.opts.instances[name];
    if (!inst) throw new BpError('InvalidInput', `deployer "${name}" is not declared under deployers`);
    return inst;
  }

  private async create(name: string): Promise<Deployer> {
    const inst = this.instance(name);
    const plugin = await this.plugin(name);
    const config = structuredClone(inst.config ?? {});
    // Built-in schemas come compiled ahead of time; a plugin's is compiled once per process.
    const validate = await configValidatorWithDefaults(plugin.configSchema);
    if (!validate(config)) {
      const why = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new BpError('InvalidInput', `config of deployer "${name}" (type ${inst.type}) is invalid: ${why}`);
    }
    const stateDir = join(this.opts.stateDir, 'deployers', this.opts.environmentId, name);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    return plugin.create(config, { logger: this.opts.logger, stateDir });
  }
}
