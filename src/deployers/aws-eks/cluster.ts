/**
 * Finds an EKS cluster's API endpoint and CA with DescribeCluster, then hands the k8s deployer
 * a client authenticated with an EKS token. Credentials come from the AWS SDK's default chain
 * (environment, profile, SSO, instance role...). Tokens last 15 minutes, so the client is
 * rebuilt (new token) after TOKEN_REFRESH_MS.
 */
import { ProviderError } from '../../model/errors.js';
import { clientFor } from '../k8s/connect.js';
import type { Connect } from '../k8s/deployer.js';
import { loadKubeSdk } from '../k8s/sdk.js';
import type { K8sConfig } from '../k8s/settings.js';
import { eksToken, importAwsPackage } from './token.js';
import type { KubeClient } from '../k8s/client.js';

export interface EksConfig extends Omit<K8sConfig, 'kubeconfig' | 'in_cluster' | 'context'> {
  cluster_name: string;
  region?: string;
  /** The EKS API endpoint (for tests, VPC endpoints, or other partitions). */
  endpoint_url?: string;
  /** The STS host the token is presigned for (default: the region's STS endpoint, sts.REGION.amazonaws.com, or sts.REGION.amazonaws.com.cn in the China regions). */
  sts_host?: string;
  /** Skip verifying the cluster's TLS certificate (tests against a plain-HTTP fake only). */
  insecure_skip_tls_verify?: boolean;
}

export const TOKEN_REFRESH_MS = 10 * 60 * 1000;

export interface ClusterAccess {
  endpoint: string;
  caData: string | undefined;
}

type EksModule = typeof import('@aws-sdk/client-eks');

function loadEks(): Promise<EksModule> {
  return importAwsPackage<EksModule>('@aws-sdk/client-eks');
}

function regionOf(config: EksConfig): string {
  const region = config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new ProviderError('the aws-eks deployer needs a region: set region in its config or AWS_REGION');
  return region;
}

/** DescribeCluster, with EKS's answers turned into ProviderErrors an operator can act on. */
export async function describeCluster(config: EksConfig): Promise<{
  access: ClusterAccess;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}> {
  const { EKSClient, DescribeClusterCommand } = await loadEks();
  const region = regionOf(config);
  const client = new EKSClient({
    region,
    ...(config.endpoint_url ? { endpoint: config.endpoint_url } : {}),
    maxAttempts: 3,
  });
  try {
    const out = await client.send(new DescribeClusterCommand({ name: config.cluster_name }));
    const cluster = out.cluster;
    if (!cluster?.endpoint) {
      throw new ProviderError(
        `EKS cluster "${config.cluster_name}" in ${region} has no API endpoint yet (status ${cluster?.status ?? 'unknown'})`,
        { retryable: true },
      );
    }
    if (cluster.status !== 'ACTIVE' && cluster.status !== 'UPDATING') {
      throw new ProviderError(`EKS cluster "${config.cluster_name}" in ${region} is ${cluster.status}, not ACTIVE`, {
        retryable: cluster.status === 'CREATING',
      });
    }
    const credentials = await client.config.credentials();
    return { access: { endpoint: cluster.endpoint, caData: cluster.certificateAuthority?.data }, credentials };
  } catch (e) {
    if (ProviderError.is(e)) throw e;
    const name = (e as { name?: string }).name ?? '';
    const message = (e as Error).message;
    if (name === 'ResourceNotFoundException') {
      throw new ProviderError(`EKS cluster "${config.cluster_name}" does not exist in ${region}: ${message}`, {
        cause: e,
      });
    }
    if (name === 'CredentialsProviderError') {
      throw new ProviderError(
        `no AWS credentials for the aws-eks deployer: ${message}; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
        { cause: e },
      );
    }
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const retryable =
      name === 'ThrottlingException' ||
      name === 'ServerException' ||
      (status !== undefined && (status === 429 || status >= 500)) ||
      status === undefined;
    throw new ProviderError(
      `DescribeCluster "${config.cluster_name}" in ${region} failed (${name || 'error'}${status ? ` ${status}` : ''}): ${message}`,
      { cause: e, retryable },
    );
  } finally {
    client.destroy();
  }
}

export function eksConnector(config: EksConfig): Connect {
  let current: { client: Promise<KubeClient>; at: number } | undefined;
  return () => {
    if (!current || Date.now() - current.at > TOKEN_REFRESH_MS) {
      const client = (async () => {
        const [{ access, credentials }, sdk] = await Promise.all([describeCluster(config), loadKubeSdk()]);
        const token = await eksToken({
          clusterName: config.cluster_name,
          region: regionOf(config),
          credentials,
          stsHost: config.sts_host,
        });
        const kc = new sdk.KubeConfig();
        kc.loadFromOptions({
          clusters: [
            {
              name: config.cluster_name,
              server: access.endpoint,
              caData: access.caData,
              skipTLSVerify: config.insecure_skip_tls_verify ?? false,
            },
          ],
          users: [{ name: 'bp-eks', token }],
          contexts: [{ name: 'eks', cluster: config.cluster_name, user: 'bp-eks' }],
          currentContext: 'eks',
        });
        return clientFor(sdk, kc, config);
      })();
      current = { client, at: Date.now() };
      client.catch(() => (current = undefined));
    }
    return current.client;
  };
}
