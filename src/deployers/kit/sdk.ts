/**
 * Provider SDKs, loaded only when a verb needs them: bp does not install them, `bp --version`
 * and local-only paths never import them, and a deployer's clients are built once and shared.
 */
import type { Logger } from '../../model/deployer.js';
import { PluginLoadError } from '../../model/errors.js';
import { keyedMutex } from './mutex.js';

/**
 * Imports an optional package a deployer needs. A missing one is a PluginLoadError naming it
 * and the command that installs it: "the aws-ec2 deployer needs the AWS SDK package X, which
 * is not installed; run: npm install ...".
 */
export async function importPackage<T>(
  name: string,
  needs: { deployer: string; what: string; install: string },
): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    throw new PluginLoadError(
      `the ${needs.deployer} deployer needs the ${needs.what} ${name}, which is not installed; run: ${needs.install}`,
      { cause: e },
    );
  }
}

/**
 * The ground a deployer talking to a provider SDK stands on: the config and logger `create`
 * gave it, the SDK's clients built on the first verb that needs them (never by `create`) and
 * built again after a failed attempt (a package installed meanwhile, a credential not ready
 * yet), and one keyed mutex for its read-modify-writes. A subclass says how to build its
 * clients, and how to release them when bp closes it, if they hold anything.
 */
export abstract class SdkDeployer<Config, Clients> {
  /** Serializes read-modify-write of one provider object (bp runs verbs in parallel). */
  protected readonly exclusive = keyedMutex();
  private loading: Promise<Clients> | null = null;

  constructor(
    protected readonly config: Config,
    protected readonly logger: Logger,
  ) {}

  /** Loads the SDK and builds its clients. */
  protected abstract createClients(): Promise<Clients>;

  /** Frees what the clients hold (sockets, agents); nothing by default. */
  protected releaseClients(_clients: Clients): void | Promise<void> {}

  /** The clients, built on the first call and shared by every later one. */
  protected clients(): Promise<Clients> {
    if (!this.loading) {
      const loading = this.createClients();
      this.loading = loading;
      loading.catch(() => {
        if (this.loading === loading) this.loading = null;
      });
    }
    return this.loading;
  }

  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = null;
    const clients = await loading?.catch(() => null);
    if (clients) await this.releaseClients(clients);
  }
}
