/**
 * The few calls the k8s deployer makes, over @kubernetes/client-node's KubernetesObjectApi:
 * server-side apply, read, list by label, delete. Each request is sent once by default:
 * retries live in bp's engine, which retries the whole verb (no sooner than a 429's
 * Retry-After). `request_attempts` above 1 opts into in-place retries of throttling, 5xx and
 * stale-resourceVersion conflicts (every request bp sends is idempotent). What fails becomes a
 * ProviderError in the kit's shape. The verb's AbortSignal reaches the HTTP request itself
 * through AsyncLocalStorage and a request middleware.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { AbortedError } from '../../model/errors.js';
import { sleep } from '../kit/abort.js';
import { isRetryableKind } from '../kit/provider-errors.js';
import { classifyKube, isAbort, statusOf, toProviderError } from './errors.js';
import type { Sdk } from './sdk.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    resourceVersion?: string;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface ClientSettings {
  fieldManager: string;
  forceConflicts: boolean;
  /** Attempts per request, including the first (1: the engine alone retries). */
  attempts: number;
  /** First backoff; doubles per attempt (with jitter). */
  backoffMs: number;
  /** A Retry-After longer than this is not waited for in place: the engine retries later. */
  maxRetryAfterMs: number;
}

export const DEFAULT_CLIENT_SETTINGS: ClientSettings = {
  fieldManager: 'bp',
  forceConflicts: true,
  attempts: 1,
  backoffMs: 200,
  maxRetryAfterMs: 10_000,
};

const currentSignal = new AsyncLocalStorage<AbortSignal>();

export class KubeClient {
  private readonly api: KubernetesObjectApi;

  constructor(
    sdk: Sdk,
    readonly kubeConfig: KubeConfig,
    readonly namespace: string,
    private readonly settings: ClientSettings = DEFAULT_CLIENT_SETTINGS,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server;
    const configuration = sdk.createConfiguration({
      baseServer: new sdk.ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [
        {
          // Generic so that the code type-checks without the SDK installed (its stand-in types are any).
          pre: async <C extends { setSignal(signal: AbortSignal): void }>(ctx: C) => {
            const signal = currentSignal.getStore();
            if (signal) ctx.setSignal(signal);
            return ctx;
          },
          post: async <R>(rsp: R) => rsp,
        },
      ],
    });
    this.api = new sdk.KubernetesObjectApi(configuration);
  }

  readonly server: string;

  /** Runs `fn` with `signal` attached to every request it makes. */
  withSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return currentSignal.run(signal, fn);
  }

  /** Server-side apply as field manager `bp` (creates when absent). */
  apply(obj: KubeObject): Promise<KubeObject> {
    const o = { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? this.namespace } };
    return this.call(`applying ${obj.kind} ${obj.metadata.name}`, () =>
      this.api.patch(
        o,
        undefined,
        undefined,
        this.settings.fieldManager,
        this.settings.forceConflicts,
        'application/apply-patch+yaml',
      ),
    );
  }

  /** The object, or null when it does not exist. */
  async read(apiVersion: string, kind: string, name: string, namespaced = true): Promise<KubeObject | null> {
    try {
      return await this.call(`reading ${kind} ${name}`, () =>
        this.api.read({ apiVersion, kind, metadata: { name, ...(namespaced ? { namespace: this.namespace } : {}) } }),
      );
    } catch (e) {
      if (statusOf((e as { cause?: unknown }).cause)?.code === 404) return null;
      throw e;
    }
  }

  async list(apiVersion: string, kind: string, labelSelector: string): Promise<KubeObject[]> {
    const list = await this.call(`listing ${kind} (${labelSelector})`, () =>
      this.api.list(apiVersion, kind, this.namespace, undefined, undefined, undefined, undefined, labelSelector),
    );
    return (list as unknown as { items?: KubeObject[] }).items ?? [];
  }

  /** Deletes with background propagation; true when it existed (404 is success for teardown). */
  async remove(apiVersion: string, kind: string, name: string): Promise<boolean> {
    try {
      await this.call(`deleting ${kind} ${name}`, () =>
        this.api.delete(
          { apiVersion, kind, metadata: { name, namespace: this.namespace } },
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
        ),
      );
      return true;
    } catch (e) {
      if (statusOf((e as { cause?: unknown }).cause)?.code === 404) return false;
      throw e;
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<KubeObject & T> {
    const signal = currentSignal.getStore();
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortedError(`${what} was aborted`);
      try {
        // Plain JSON: the client hands back model classes with Date fields.
        return JSON.parse(JSON.stringify(await fn())) as KubeObject & T;
      } catch (e) {
        if (isAbort(e) || signal?.aborted) throw new AbortedError(`${what} was aborted`);
        const wait = this.retryDelay(e, attempt);
        if (wait === null) throw toProviderError(e, what, this.server);
        await sleep(wait, signal, what);
      }
    }
  }

  /** How long to wait before trying again, or null to give up now. */
  private retryDelay(e: unknown, attempt: number): number | null {
    const f = classifyKube(e);
    if (attempt >= this.settings.attempts || !isRetryableKind(f.kind)) return null;
    if (f.retryAfterMs !== undefined) return f.retryAfterMs <= this.settings.maxRetryAfterMs ? f.retryAfterMs : null;
    const base = this.settings.backoffMs * 2 ** (attempt - 1);
    return base / 2 + (Math.random() * base) / 2;
  }
}
