/**
 * The GCP Secret Manager, Azure Key Vault and Kubernetes Secrets stores, each through its
 * official SDK, imported only when a reference names the store, and configured from the
 * environment the way that SDK and its CLI are (docs/secrets.md, "References"):
 * - gcp-sm: Application Default Credentials; REF `SECRET` (project from GOOGLE_CLOUD_PROJECT or
 *   the credentials) or `projects/P/secrets/SECRET`; VERSION a version number or alias
 *   (default `latest`); CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER for another endpoint.
 * - azure-kv: REF `VAULT/NAME` (https://VAULT.vault.azure.net) or `NAME` in AZURE_KEYVAULT_URL;
 *   VERSION the secret version id; AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET (with
 *   AZURE_AUTHORITY_HOST) or else DefaultAzureCredential.
 * - k8s: REF `NAMESPACE/NAME` or `NAME` (the kubeconfig context's namespace); `#KEY` selects a
 *   data key (a Secret of one key needs none); VERSION the resourceVersion it must still have
 *   (Kubernetes keeps no old versions); KUBECONFIG or ~/.kube/config, or in-cluster.
 */
import {
  describe,
  failure,
  importOptional,
  namingFailures,
  SecretStoreError,
  type StoreFactory,
} from './store-common.js';

const GCP_PKG = '@google-cloud/secret-manager';
const GCP_ENDPOINT_VAR = 'CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER';

export const gcpSecretManager: StoreFactory = async (vars) => {
  const sdk = await importOptional(GCP_PKG, () => import('@google-cloud/secret-manager'));
  // REST (HTTP/1.1 + JSON) rather than gRPC: one transport for real endpoints and private ones.
  const opts: { fallback: boolean; apiEndpoint?: string; port?: number; protocol?: string } = { fallback: true };
  const override = vars[GCP_ENDPOINT_VAR];
  if (override) {
    let url: URL;
    try {
      url = new URL(override);
    } catch {
      throw new SecretStoreError(`${GCP_ENDPOINT_VAR} must be a URL such as https://secretmanager.googleapis.com/`);
    }
    opts.apiEndpoint = url.hostname;
    opts.port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
    opts.protocol = url.protocol.replace(':', '');
  }
  const client = new sdk.v1.SecretManagerServiceClient(opts);
  let project: Promise<string> | undefined;
  const projectId = (): Promise<string> => {
    const fromEnv = vars.GOOGLE_CLOUD_PROJECT ?? vars.GCLOUD_PROJECT;
    return (project ??= fromEnv ? Promise.resolve(fromEnv) : client.getProjectId());
  };
  return namingFailures(async (ref, signal) => {
    const secret = ref.ref.startsWith('projects/') ? ref.ref : `projects/${await projectId()}/secrets/${ref.ref}`;
    if (!/^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[^/]+$/.test(secret))
      throw new SecretStoreError(`gcp-sm reference ${describe(ref)} must be SECRET or projects/PROJECT/secrets/SECRET`);
    const call = client.accessSecretVersion({ name: `${secret}/versions/${ref.version ?? 'latest'}` });
    const [out] = await abortable(call, signal);
    const data = out.payload?.data;
    if (data === undefined || data === null) throw new SecretStoreError(`secret ${describe(ref)} has no payload`);
    const value =
      typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(data).toString('utf8');
    return {
      value,
      version:
        String(out.name ?? '')
          .split('/')
          .pop() || 'unknown',
    };
  }, gaxStatus);
};

/** google-gax errors carry a numeric gRPC code (its name sits in `reason`/`details`). */
function gaxStatus(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? `gRPC code ${code}` : undefined;
}

const KV_PKG = '@azure/keyvault-secrets';

export const azureKeyVault: StoreFactory = async (vars) => {
  const [kv, identity] = await Promise.all([
    importOptional(KV_PKG, () => import('@azure/keyvault-secrets')),
    importOptional('@azure/identity', () => import('@azure/identity')),
  ]);
  const authorityHost = vars.AZURE_AUTHORITY_HOST;
  const common = authorityHost ? { authorityHost, disableInstanceDiscovery: true } : {};
  const credential =
    vars.AZURE_TENANT_ID && vars.AZURE_CLIENT_ID && vars.AZURE_CLIENT_SECRET
      ? new identity.ClientSecretCredential(
          vars.AZURE_TENANT_ID,
          vars.AZURE_CLIENT_ID,
          vars.AZURE_CLIENT_SECRET,
          common,
        )
      : new identity.DefaultAzureCredential(common);
  const clients = new Map<string, InstanceType<typeof kv.SecretClient>>();
  const clientFor = (vaultUrl: string) => {
    let c = clients.get(vaultUrl);
    if (!c) {
      c = new kv.SecretClient(vaultUrl, credential, {
        retryOptions: { maxRetries: 2 },
        // Private endpoints under another DNS name than the challenge's resource (docs/secrets.md).
        disableChallengeResourceVerification: vars.BP_AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION === 'true',
      });
      clients.set(vaultUrl, c);
    }
    return c;
  };
  const suffix = vars.AZURE_KEYVAULT_DNS_SUFFIX ?? 'vault.azure.net';
  return namingFailures(async (ref, signal) => {
    const slash = ref.ref.indexOf('/');
    const vaultUrl = slash > 0 ? `https://${ref.ref.slice(0, slash)}.${suffix}` : vars.AZURE_KEYVAULT_URL;
    const name = ref.ref.slice(slash + 1);
    if (!vaultUrl)
      throw new SecretStoreError(
        `azure-kv reference ${describe(ref)} names no vault: write VAULT/NAME or set AZURE_KEYVAULT_URL`,
      );
    const s = await clientFor(vaultUrl).getSecret(name, {
      abortSignal: signal,
      ...(ref.version ? { version: ref.version } : {}),
    });
    if (s.value === undefined) throw new SecretStoreError(`secret ${describe(ref)} has no value`);
    return { value: s.value, version: s.properties.version ?? 'unknown' };
  }, azureStatus);
};

/** Azure SDK errors: the HTTP status and the service's error code. */
function azureStatus(e: unknown): string | undefined {
  const r = e as { statusCode?: number; code?: string };
  return r.statusCode ? `HTTP ${r.statusCode}${r.code ? ` ${r.code}` : ''}` : undefined;
}

export const k8sSecrets: StoreFactory = async (vars) => {
  const sdk = await importOptional('@kubernetes/client-node', () => import('@kubernetes/client-node'));
  const kc = new sdk.KubeConfig();
  try {
    if (vars.KUBECONFIG) kc.loadFromFile(vars.KUBECONFIG.split(':')[0]);
    else kc.loadFromDefault();
  } catch (e) {
    throw new SecretStoreError(
      `cannot load the kubeconfig for \${secret:k8s:...} references: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const api = kc.makeApiClient(sdk.CoreV1Api);
  return {
    async fetch(ref) {
      const slash = ref.ref.indexOf('/');
      const namespace = slash > 0 ? ref.ref.slice(0, slash) : defaultNamespace;
      const name = ref.ref.slice(slash + 1);
      let secret: Awaited<ReturnType<typeof api.readNamespacedSecret>>;
      try {
        secret = await api.readNamespacedSecret({ name, namespace });
      } catch (e) {
        const code = (e as { code?: number }).code;
        throw failure(ref, e, typeof code === 'number' ? code : undefined);
      }
      const version = secret.metadata?.resourceVersion ?? 'unknown';
      if (ref.version !== undefined && ref.version !== version)
        throw new SecretStoreError(
          `secret ${describe(ref)} has changed (resourceVersion ${version}); Kubernetes keeps no earlier versions`,
        );
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries<string>(secret.data ?? {}))
        data[k] = Buffer.from(v, 'base64').toString('utf8');
      const keys = Object.keys(data);
      if (ref.key !== undefined) return { value: JSON.stringify(data), version };
      if (keys.length !== 1)
        throw new SecretStoreError(
          `Kubernetes Secret ${namespace}/${name} has ${keys.length} keys; select one with #KEY (${describe(ref)}#${keys[0] ?? 'KEY'})`,
        );
      return { value: data[keys[0]], version };
    },
  };
};

/** Rejects when `signal` aborts (the gax promise itself takes no signal). */
/** `Promise<T> | T`: type-checked without the SDK installed (its stand-in types are any), T is any, not unknown. */
function abortable<T>(p: Promise<T> | T, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(p)
      .then((v) => resolve(v as T), reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
