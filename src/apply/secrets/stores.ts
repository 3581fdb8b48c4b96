/**
 * Secret stores behind `${secret:STORE:REF[@VERSION][#KEY]}`, each through its official SDK
 * (an optional dependency, imported only when a reference names the store) or its HTTP API.
 * Configured from the environment the way each SDK is (docs/secrets.md): AWS_REGION and the
 * SDK's credential chain (AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SSM for another
 * endpoint); VAULT_ADDR and VAULT_TOKEN (VAULT_NAMESPACE) for Vault. A fetched value never
 * enters a message; the store's version id is returned beside it.
 */
import type { SecretStoreKind } from '../../spec/index.js';
import { azureKeyVault, gcpSecretManager, k8sSecrets } from './cloud-stores.js';
import { describe, importOptional, namingFailures, SecretStoreError, type StoreFactory } from './store-common.js';

export {
  SecretStoreError,
  type Fetched,
  type SecretReference,
  type SecretStore,
  type StoreFactory,
} from './store-common.js';

const AWS_STAGE = /^AWS[A-Z]+$/;

/** An AWS SDK client's settings: AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, when set; few SDK retries. */
function awsClientConfig(
  vars: Record<string, string | undefined>,
  serviceEndpointVar: string,
): { endpoint?: string; maxAttempts: number } {
  const endpoint = vars[serviceEndpointVar] ?? vars.AWS_ENDPOINT_URL;
  return { ...(endpoint ? { endpoint } : {}), maxAttempts: 3 };
}

const awsSecretsManager: StoreFactory = async (vars) => {
  const sdk = await importOptional('@aws-sdk/client-secrets-manager', () => import('@aws-sdk/client-secrets-manager'));
  const client = new sdk.SecretsManagerClient(awsClientConfig(vars, 'AWS_ENDPOINT_URL_SECRETS_MANAGER'));
  return namingFailures(async (ref, signal) => {
    const pin =
      ref.version === undefined
        ? {}
        : AWS_STAGE.test(ref.version)
          ? { VersionStage: ref.version }
          : { VersionId: ref.version };
    const out = await client.send(new sdk.GetSecretValueCommand({ SecretId: ref.ref, ...pin }), {
      abortSignal: signal,
    });
    const value = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    if (value === undefined) throw new SecretStoreError(`secret ${describe(ref)} has no value`);
    return { value, version: out.VersionId ?? 'unknown' };
  });
};

const awsSsm: StoreFactory = async (vars) => {
  const sdk = await importOptional('@aws-sdk/client-ssm', () => import('@aws-sdk/client-ssm'));
  const client = new sdk.SSMClient(awsClientConfig(vars, 'AWS_ENDPOINT_URL_SSM'));
  return namingFailures(async (ref, signal) => {
    // Parameter Store selects a version (or a label) with NAME:VERSION.
    const name = ref.version === undefined ? ref.ref : `${ref.ref}:${ref.version}`;
    const out = await client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true }), {
      abortSignal: signal,
    });
    if (out.Parameter?.Value === undefined) throw new SecretStoreError(`parameter ${describe(ref)} has no value`);
    return { value: out.Parameter.Value, version: String(out.Parameter.Version ?? 'unknown') };
  });
};

/** HashiCorp Vault KV version 2 over its HTTP API: REF is MOUNT/PATH (GET /v1/MOUNT/data/PATH). */
const vault: StoreFactory = async (vars) => {
  const addr = vars.VAULT_ADDR;
  const token = vars.VAULT_TOKEN;
  if (!addr || !token) throw new SecretStoreError('${secret:vault:...} references need VAULT_ADDR and VAULT_TOKEN set');
  return {
    async fetch(ref, signal) {
      const slash = ref.ref.indexOf('/');
      if (slash <= 0)
        throw new SecretStoreError(`vault reference ${describe(ref)} must be MOUNT/PATH (say secret/app/db)`);
      const url = new URL(`/v1/${ref.ref.slice(0, slash)}/data/${ref.ref.slice(slash + 1)}`, addr);
      if (ref.version !== undefined) url.searchParams.set('version', ref.version);
      const headers: Record<string, string> = { 'x-vault-token': token };
      if (vars.VAULT_NAMESPACE) headers['x-vault-namespace'] = vars.VAULT_NAMESPACE;
      let res: Response;
      try {
        res = await fetch(url, { headers, signal });
      } catch (e) {
        throw new SecretStoreError(`cannot reach Vault for ${describe(ref)}: ${(e as Error).message}`, { cause: e });
      }
      if (!res.ok) throw new SecretStoreError(`cannot read secret ${describe(ref)}: Vault answered HTTP ${res.status}`);
      const body = (await res.json()) as {
        data?: { data?: Record<string, unknown> | null; metadata?: { version?: number } };
      };
      const data = body.data?.data;
      if (!data) throw new SecretStoreError(`secret ${describe(ref)} has no data (deleted or destroyed version)`);
      return { value: JSON.stringify(data), version: String(body.data?.metadata?.version ?? 'unknown') };
    },
  };
};

export const STORE_FACTORIES: Record<SecretStoreKind, StoreFactory> = {
  'aws-sm': awsSecretsManager,
  'aws-ssm': awsSsm,
  vault,
  'gcp-sm': gcpSecretManager,
  'azure-kv': azureKeyVault,
  k8s: k8sSecrets,
};
