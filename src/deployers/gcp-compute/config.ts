/**
 * Configuration of the `gcp-compute` deployer (`deployers.X.config`) and the machine-type
 * catalog that turns a revision's `resources` into a Compute Engine machine type.
 */
import type { Resources } from '../../model/environment.js';
import { type CatalogSize, requireFit } from '../kit/catalog.js';
import { bootGraceSchema, portSchema, warmPollIntervalSchema } from '../kit/config-schema.js';

export interface GcpComputeConfig {
  project: string;
  zone: string;
  /** Endpoint override (`http://127.0.0.1:PORT` for a fake); unset for the real API. */
  endpoint?: string;
  network?: string;
  subnetwork?: string;
  machine_type?: string;
  /** Port the revision listens on inside the VM (`$PORT`), named `http` on the instance group. */
  port?: number;
  network_tags?: string[];
  service_account?: string;
  external_ip?: boolean;
  container_image?: string;
  vm_image?: string;
  /** Create a target HTTP proxy and forwarding rule per deployment (else only the URL map). */
  frontend?: boolean;
  /** Frontend port when the deployment has no `listen`. */
  frontend_port?: number;
  load_balancing_scheme?: 'EXTERNAL_MANAGED' | 'INTERNAL_SELF_MANAGED';
  /** Added to `health.timeout_seconds` while warming: VM boot and image pull time. */
  boot_grace_seconds?: number;
  poll_interval_ms?: number;
  operation_timeout_seconds?: number;
}

export type Settings = Required<
  Omit<GcpComputeConfig, 'endpoint' | 'subnetwork' | 'machine_type' | 'service_account'>
> &
  Pick<GcpComputeConfig, 'endpoint' | 'subnetwork' | 'machine_type' | 'service_account'>;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['project', 'zone'],
  properties: {
    project: { type: 'string', minLength: 1, description: 'Project id that owns every resource.' },
    zone: { type: 'string', minLength: 1, description: 'Zone of the instance groups, e.g. us-central1-a.' },
    endpoint: {
      type: 'string',
      pattern: '^https?://',
      description: 'API endpoint override (a fake or a private endpoint); unset for compute.googleapis.com.',
    },
    network: { type: 'string', default: 'global/networks/default', description: 'VPC network of the VMs.' },
    subnetwork: {
      type: 'string',
      description: 'Subnetwork of the VMs (regions/R/subnetworks/S); required for custom-mode VPCs.',
    },
    machine_type: {
      type: 'string',
      description: 'Machine type for every revision; else chosen from resources by the catalog.',
    },
    port: portSchema(8080, 'Port revisions listen on ($PORT).'),
    network_tags: {
      type: 'array',
      items: { type: 'string' },
      default: ['bp-http'],
      description: 'Network tags for firewall rules (health-check ranges).',
    },
    service_account: {
      type: 'string',
      description:
        "Service account email the VMs run as: it pulls Artifact Registry images and fetches ${secret:gcp-sm:...} values at boot (else the project's Compute Engine default account, and no secrets).",
    },
    external_ip: {
      type: 'boolean',
      default: false,
      description: 'Give each VM an ephemeral external IP (to pull from public registries without Cloud NAT).',
    },
    container_image: {
      type: 'string',
      default: 'projects/cos-cloud/global/images/family/cos-stable',
      description:
        'Boot image for artifact.image revisions: Container-Optimized OS (default) or a Debian/Ubuntu image; its startup-script runs the image with Docker.',
    },
    vm_image: {
      type: 'string',
      default: 'projects/debian-cloud/global/images/family/debian-12',
      description: 'Boot image for artifact.binary / artifact.command revisions.',
    },
    frontend: {
      type: 'boolean',
      default: true,
      description: 'Create a target HTTP proxy and global forwarding rule per deployment.',
    },
    frontend_port: portSchema(80, 'Forwarding-rule port when a deployment has no listen.'),
    load_balancing_scheme: { enum: ['EXTERNAL_MANAGED', 'INTERNAL_SELF_MANAGED'], default: 'EXTERNAL_MANAGED' },
    boot_grace_seconds: bootGraceSchema(240),
    poll_interval_ms: warmPollIntervalSchema,
    operation_timeout_seconds: {
      type: 'integer',
      minimum: 1,
      default: 900,
      description: 'Bound on waiting for one long-running operation.',
    },
  },
} as const;

export function settingsFrom(config: GcpComputeConfig): Settings {
  return {
    network: 'global/networks/default',
    port: 8080,
    network_tags: ['bp-http'],
    external_ip: false,
    container_image: 'projects/cos-cloud/global/images/family/cos-stable',
    vm_image: 'projects/debian-cloud/global/images/family/debian-12',
    frontend: true,
    frontend_port: 80,
    load_balancing_scheme: 'EXTERNAL_MANAGED',
    boot_grace_seconds: 240,
    poll_interval_ms: 5000,
    operation_timeout_seconds: 900,
    ...config,
  };
}

/** Smallest first; the first type that covers cpu, memory and gpu wins. G2 types carry NVIDIA L4 GPUs. */
const MACHINE_CATALOG: readonly CatalogSize[] = [
  { name: 'e2-micro', cpu: 0.25, memory_mb: 1024, gpu: 0 },
  { name: 'e2-small', cpu: 0.5, memory_mb: 2048, gpu: 0 },
  { name: 'e2-medium', cpu: 1, memory_mb: 4096, gpu: 0 },
  { name: 'e2-standard-2', cpu: 2, memory_mb: 8192, gpu: 0 },
  { name: 'e2-standard-4', cpu: 4, memory_mb: 16384, gpu: 0 },
  { name: 'e2-standard-8', cpu: 8, memory_mb: 32768, gpu: 0 },
  { name: 'e2-standard-16', cpu: 16, memory_mb: 65536, gpu: 0 },
  { name: 'e2-standard-32', cpu: 32, memory_mb: 131072, gpu: 0 },
  { name: 'g2-standard-4', cpu: 4, memory_mb: 16384, gpu: 1 },
  { name: 'g2-standard-24', cpu: 24, memory_mb: 98304, gpu: 2 },
  { name: 'g2-standard-48', cpu: 48, memory_mb: 196608, gpu: 4 },
  { name: 'g2-standard-96', cpu: 96, memory_mb: 393216, gpu: 8 },
];

export function machineTypeFor(resources: Resources, configured: string | undefined): { name: string; gpu: boolean } {
  if (configured) return { name: configured, gpu: resources.gpu > 0 || /^(a2|a3|g2)-/.test(configured) };
  const fit = requireFit(
    MACHINE_CATALOG,
    resources,
    `no catalog machine type has ${resources.cpu} vCPU, ${resources.memory_mb} MB and ${resources.gpu} GPU; set machine_type in the deployer config`,
  );
  return { name: fit.name, gpu: fit.gpu > 0 };
}
