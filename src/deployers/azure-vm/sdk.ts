/**
 * Loads the Azure SDKs once, lazily (nothing else in bp pays for them), picks the credential
 * and builds the three management clients, all pointed at the same Resource Manager endpoint
 * and trusting the same extra CA when one is configured.
 */
import { readFileSync } from 'node:fs';
import type * as ComputeSdk from '@azure/arm-compute';
import type * as NetworkSdk from '@azure/arm-network';
import type * as TrafficManagerSdk from '@azure/arm-trafficmanager';
import type * as IdentitySdk from '@azure/identity';
import { ProviderError } from '../../model/errors.js';
import { importPackage } from '../kit/sdk.js';
import type { Settings } from './config.js';

export const INSTALL =
  'npm install @azure/arm-compute@24.1 @azure/arm-network@36 @azure/arm-trafficmanager@6 @azure/identity@4.12';

export interface AzureClients {
  compute: ComputeSdk.ComputeManagementClient;
  network: NetworkSdk.NetworkManagementClient;
  trafficManager: TrafficManagerSdk.TrafficManagerManagementClient;
}

type TokenCredential = IdentitySdk.TokenCredential;

function importSdk<T>(name: string): Promise<T> {
  return importPackage<T>(name, { deployer: 'azure-vm', what: 'Azure SDK package', install: INSTALL });
}

function readCa(settings: Settings): string | undefined {
  if (!settings.ca_file) return undefined;
  try {
    return readFileSync(settings.ca_file, 'utf8');
  } catch (e) {
    throw new ProviderError(`cannot read ca_file ${settings.ca_file}: ${(e as Error).message}`, { cause: e });
  }
}

/** A bearer token handed over in an environment variable (e.g. from `az account get-access-token`). */
function accessTokenCredential(variable: string): TokenCredential {
  return {
    async getToken() {
      const token = process.env[variable];
      if (!token)
        throw new ProviderError(
          `credential type access-token reads the token from $${variable}, which is empty; set it (az account get-access-token --query accessToken -o tsv)`,
        );
      // The token's real expiry is unknown here; an hour is what Entra issues for ARM.
      return { token, expiresOnTimestamp: Date.now() + 55 * 60_000 };
    },
  };
}

function credentialFor(
  identity: typeof IdentitySdk,
  settings: Settings,
  tls: { ca: string } | undefined,
): TokenCredential {
  const common = {
    ...(settings.authority_host ? { authorityHost: settings.authority_host } : {}),
    // MSAL validates an authority against login.microsoftonline.com, which a private one fails.
    ...(settings.authority_host || settings.disable_instance_discovery ? { disableInstanceDiscovery: true } : {}),
    ...(tls ? { tlsOptions: tls } : {}),
  };
  const c = settings.credential;
  switch (c.type) {
    case 'client-secret':
      return new identity.ClientSecretCredential(c.tenant_id, c.client_id, c.client_secret, common);
    case 'access-token':
      return accessTokenCredential(c.token_env ?? 'AZURE_ACCESS_TOKEN');
    default:
      return new identity.DefaultAzureCredential(common);
  }
}

export async function createClients(settings: Settings): Promise<AzureClients> {
  const [compute, network, tm, identity] = await Promise.all([
    importSdk<typeof ComputeSdk>('@azure/arm-compute'),
    importSdk<typeof NetworkSdk>('@azure/arm-network'),
    importSdk<typeof TrafficManagerSdk>('@azure/arm-trafficmanager'),
    importSdk<typeof IdentitySdk>('@azure/identity'),
  ]);
  const ca = readCa(settings);
  const tls = ca ? { ca } : undefined;
  const credential = credentialFor(identity, settings, tls);
  const endpoint = settings.endpoint?.replace(/\/+$/, '');
  const common = {
    retryOptions: {
      maxRetries: settings.max_retries,
      retryDelayInMs: settings.retry_delay_ms,
      maxRetryDelayInMs: Math.max(settings.retry_delay_ms, 30_000),
    },
    userAgentOptions: { userAgentPrefix: 'bp-azure-vm' },
    ...(tls ? { tlsOptions: tls } : {}),
  };
  // The compute client is the new generated kind (`endpoint`, `credentials.scopes`); network and
  // Traffic Manager are the older kind (`endpoint` for the scope, `$host` for the URLs).
  const older = {
    ...common,
    credentialScopes: [settings.token_scope],
    ...(endpoint ? { endpoint, $host: endpoint } : {}),
  };
  return {
    compute: new compute.ComputeManagementClient(credential, settings.subscription_id, {
      ...common,
      credentials: { scopes: [settings.token_scope] },
      ...(endpoint ? { endpoint } : {}),
    }),
    network: new network.NetworkManagementClient(credential, settings.subscription_id, older),
    trafficManager: new tm.TrafficManagerManagementClient(credential, settings.subscription_id, older),
  };
}
