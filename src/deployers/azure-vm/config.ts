/**
 * Configuration of the `azure-vm` deployer (`deployers.X.config`) and the VM size catalog
 * that turns a revision's `resources` into an Azure VM size.
 */
import type { Resources } from '../../model/environment.js';
import { type CatalogSize, requireFit } from '../kit/catalog.js';
import { bootGraceSchema, portSchema, warmPollIntervalSchema } from '../kit/config-schema.js';

export type CredentialConfig =
  | { type: 'default' }
  | { type: 'client-secret'; tenant_id: string; client_id: string; client_secret: string }
  | { type: 'access-token'; token_env?: string };

export interface AzureVmConfig {
  subscription_id: string;
  resource_group: string;
  location: string;
  /** Full id of the subnet the VMs' NICs join. */
  subnet_id: string;
  credential?: CredentialConfig;
  /** Resource Manager endpoint (Azure Stack Hub, a sovereign cloud, a fake); unset for management.azure.com. */
  endpoint?: string;
  /** Token audience for `endpoint`; default `https://management.azure.com/.default`. */
  token_scope?: string;
  /** Microsoft Entra authority host (sovereign clouds, Azure Stack); unset for login.microsoftonline.com. */
  authority_host?: string;
  /** Skip Microsoft Entra instance discovery (Azure Stack Hub, private authorities); implied by authority_host. */
  disable_instance_discovery?: boolean;
  /** Extra PEM CA bundle to trust for ARM and the authority (Azure Stack Hub's own CA, a fake's). */
  ca_file?: string;
  vm_size?: string;
  /** Publisher:offer:sku:version of the VM image. */
  image?: string;
  admin_username?: string;
  /** OpenSSH public key for the admin user; else a throwaway key nobody holds (no SSH access). */
  ssh_public_key?: string;
  /** Resource id of the user-assigned managed identity the VMs run as (Key Vault secrets, ACR pulls). */
  managed_identity?: string;
  /** Port revisions listen on inside the VM ($PORT). */
  port?: number;
  /** Port of each revision's load balancer frontend, which Traffic Manager probes. */
  frontend_port?: number;
  network_security_group_id?: string;
  /** TTL of the Traffic Manager DNS answers, in seconds. */
  dns_ttl?: number;
  /** Added to `health.timeout_seconds` while warming: VM boot and image pull time. */
  boot_grace_seconds?: number;
  poll_interval_ms?: number;
  /** Interval between polls of a long-running ARM operation (overridden by the service's Retry-After). */
  lro_poll_interval_ms?: number;
  /** SDK retries of one request on throttling (429) and 5xx. */
  max_retries?: number;
  retry_delay_ms?: number;
}

/** Config fields that stay optional once the schema's defaults are filled in. */
type OptionalSetting =
  | 'endpoint'
  | 'authority_host'
  | 'ca_file'
  | 'vm_size'
  | 'ssh_public_key'
  | 'network_security_group_id'
  | 'managed_identity';

export type Settings = Required<Omit<AzureVmConfig, OptionalSetting>> & Pick<AzureVmConfig, OptionalSetting>;

const credentialSchema = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { const: 'default' } } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'tenant_id', 'client_id', 'client_secret'],
      properties: {
        type: { const: 'client-secret' },
        tenant_id: { type: 'string', minLength: 1 },
        client_id: { type: 'string', minLength: 1 },
        client_secret: { type: 'string', minLength: 1 },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'access-token' },
        token_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: 'AZURE_ACCESS_TOKEN' },
      },
    },
  ],
  description:
    'How bp authenticates: DefaultAzureCredential (default), a service principal secret, or a bearer token from an environment variable.',
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['subscription_id', 'resource_group', 'location', 'subnet_id'],
  properties: {
    subscription_id: { type: 'string', minLength: 1, description: 'Subscription that owns every resource.' },
    resource_group: { type: 'string', minLength: 1, description: 'Existing resource group bp creates everything in.' },
    location: { type: 'string', minLength: 1, description: 'Region of the VMs, e.g. westeurope.' },
    subnet_id: {
      type: 'string',
      pattern:
        '^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.Network/virtualNetworks/[^/]+/subnets/[^/]+$',
      description: 'Full id of the subnet the VMs join.',
    },
    credential: credentialSchema,
    endpoint: {
      type: 'string',
      pattern: '^https://',
      description: 'Resource Manager endpoint; unset for https://management.azure.com.',
    },
    token_scope: {
      type: 'string',
      default: 'https://management.azure.com/.default',
      description: 'Token scope (audience) for the endpoint.',
    },
    authority_host: {
      type: 'string',
      pattern: '^https://',
      description: 'Microsoft Entra authority host; unset for https://login.microsoftonline.com.',
    },
    disable_instance_discovery: {
      type: 'boolean',
      default: false,
      description:
        'Skip Entra instance discovery (Azure Stack Hub, AZURE_AUTHORITY_HOST pointing at a private authority).',
    },
    ca_file: { type: 'string', description: 'PEM file of extra CA certificates to trust (Azure Stack Hub).' },
    vm_size: { type: 'string', description: 'VM size for every revision; else chosen from resources by the catalog.' },
    image: {
      type: 'string',
      pattern: '^[^:]+:[^:]+:[^:]+:[^:]+$',
      default: 'Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest',
      description: 'publisher:offer:sku:version of the VM image (cloud-init, apt).',
    },
    admin_username: { type: 'string', default: 'bpadmin', description: 'Admin user created on every VM.' },
    ssh_public_key: { type: 'string', description: 'OpenSSH public key of the admin user; else no one can log in.' },
    managed_identity: {
      type: 'string',
      pattern:
        '^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[^/]+$',
      description:
        'Resource id of a user-assigned managed identity the VMs run as: they fetch ${secret:azure-kv:...} values (Key Vault Secrets User) and pull from ACR (AcrPull) with it at boot.',
    },
    port: portSchema(8080, 'Port revisions listen on ($PORT).'),
    frontend_port: portSchema(80, 'Port of each revision load balancer, probed by Traffic Manager.'),
    network_security_group_id: {
      type: 'string',
      description: "Network security group for the NICs (the subnet's applies anyway).",
    },
    dns_ttl: {
      type: 'integer',
      minimum: 0,
      maximum: 2147483647,
      default: 30,
      description: 'TTL of Traffic Manager DNS answers (seconds).',
    },
    boot_grace_seconds: bootGraceSchema(300),
    poll_interval_ms: warmPollIntervalSchema,
    lro_poll_interval_ms: {
      type: 'integer',
      minimum: 10,
      default: 2000,
      description: 'Polling interval of long-running operations.',
    },
    max_retries: {
      type: 'integer',
      minimum: 0,
      maximum: 10,
      default: 1,
      description:
        'SDK retries per request (one covers a reused connection reset mid-request; bp retries verbs itself).',
    },
    retry_delay_ms: {
      type: 'integer',
      minimum: 10,
      default: 1000,
      description: 'Base delay of those retries when the service sends no Retry-After.',
    },
  },
} as const;

export function settingsFrom(config: AzureVmConfig): Settings {
  return {
    credential: { type: 'default' },
    token_scope: 'https://management.azure.com/.default',
    disable_instance_discovery: false,
    image: 'Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest',
    admin_username: 'bpadmin',
    port: 8080,
    frontend_port: 80,
    dns_ttl: 30,
    boot_grace_seconds: 300,
    poll_interval_ms: 5000,
    lro_poll_interval_ms: 2000,
    max_retries: 1,
    retry_delay_ms: 1000,
    ...config,
  };
}

/** Smallest first; the first size that covers cpu, memory and gpu wins. NC T4 sizes carry NVIDIA T4 GPUs. */
export const VM_SIZES: readonly CatalogSize[] = [
  { name: 'Standard_B1s', cpu: 1, memory_mb: 1024, gpu: 0 },
  { name: 'Standard_B1ms', cpu: 1, memory_mb: 2048, gpu: 0 },
  { name: 'Standard_B2s', cpu: 2, memory_mb: 4096, gpu: 0 },
  { name: 'Standard_D2s_v5', cpu: 2, memory_mb: 8192, gpu: 0 },
  { name: 'Standard_D4s_v5', cpu: 4, memory_mb: 16384, gpu: 0 },
  { name: 'Standard_D8s_v5', cpu: 8, memory_mb: 32768, gpu: 0 },
  { name: 'Standard_D16s_v5', cpu: 16, memory_mb: 65536, gpu: 0 },
  { name: 'Standard_D32s_v5', cpu: 32, memory_mb: 131072, gpu: 0 },
  { name: 'Standard_NC4as_T4_v3', cpu: 4, memory_mb: 28672, gpu: 1 },
  { name: 'Standard_NC8as_T4_v3', cpu: 8, memory_mb: 57344, gpu: 1 },
  { name: 'Standard_NC16as_T4_v3', cpu: 16, memory_mb: 112640, gpu: 1 },
  { name: 'Standard_NC64as_T4_v3', cpu: 64, memory_mb: 450560, gpu: 4 },
];

export function vmSizeFor(resources: Resources, configured: string | undefined): string {
  if (configured) return configured;
  return requireFit(
    VM_SIZES,
    resources,
    `no catalog VM size has ${resources.cpu} vCPU, ${resources.memory_mb} MB and ${resources.gpu} GPU; set vm_size in the deployer config`,
  ).name;
}
