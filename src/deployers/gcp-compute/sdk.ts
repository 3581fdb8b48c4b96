/**
 * Loads `@google-cloud/compute` once, lazily, and builds its REST clients. Only the v1 entry
 * point is imported: the package's index also loads v1beta and v1small and takes several
 * times longer. The SDK's own credential chain (Application Default Credentials) is used as
 * is; `endpoint` only redirects the API calls (a fake, or a private endpoint).
 */
import { PluginLoadError } from '../../model/errors.js';

export const SDK_PACKAGE = '@google-cloud/compute';
const V1_ENTRY = '@google-cloud/compute/build/src/v1/index.js';

/** The slice of a generated client bp calls; request/response are the API's JSON shapes. */
export type SdkMethod = (request: Record<string, unknown>, options?: Record<string, unknown>) => Promise<unknown[]>;
export type SdkClient = Record<string, SdkMethod> & { auth?: unknown; close?: () => Promise<void> };
type ClientCtor = new (opts: Record<string, unknown>) => SdkClient;
type SdkModule = Record<string, ClientCtor>;

let loading: Promise<SdkModule> | null = null;

export function loadSdk(): Promise<SdkModule> {
  loading ??= (async () => {
    try {
      return (await import(V1_ENTRY)) as SdkModule;
    } catch {
      try {
        const full = (await import(SDK_PACKAGE)) as { v1?: SdkModule } & SdkModule;
        return full.v1 ?? full;
      } catch (e) {
        throw new PluginLoadError(
          `the gcp-compute deployer needs the Compute Engine SDK; install it with: npm install ${SDK_PACKAGE}@6.15`,
          { cause: e },
        );
      }
    }
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** Client constructor options for an endpoint override such as `http://127.0.0.1:40123`. */
export function clientOptions(project: string, endpoint: string | undefined): Record<string, unknown> {
  const opts: Record<string, unknown> = { fallback: true, projectId: project };
  if (endpoint) {
    const url = new URL(endpoint);
    opts.apiEndpoint = url.hostname;
    opts.port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
    opts.protocol = url.protocol.replace(':', '');
  }
  return opts;
}

/** Builds clients on first use; all share the first client's auth (one token, one refresh). */
export class SdkClients {
  private readonly clients = new Map<string, SdkClient>();
  private auth: unknown;

  constructor(
    private readonly sdk: SdkModule,
    private readonly options: Record<string, unknown>,
  ) {}

  get(name: string): SdkClient {
    let c = this.clients.get(name);
    if (!c) {
      const Ctor = this.sdk[name];
      if (typeof Ctor !== 'function') throw new PluginLoadError(`${SDK_PACKAGE} has no ${name}; install version 6.15`);
      c = new Ctor(this.auth ? { ...this.options, auth: this.auth } : this.options);
      this.auth ??= c.auth;
      this.clients.set(name, c);
    }
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close?.().catch(() => undefined)));
    this.clients.clear();
  }
}
