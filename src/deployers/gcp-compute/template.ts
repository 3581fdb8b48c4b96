/**
 * The instance template of a revision: what every VM of its instance group boots, its
 * startup-script (boot-script.ts) in the metadata. The metadata is readable by anyone who may
 * read the VMs, so it carries plain env values and secret references only.
 */
import type { DeployerDeployment, DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { checkImageReference } from '../kit/image-reference.js';
import type { Json } from './api.js';
import { bootImage, startupScript } from './boot-script.js';
import { machineTypeFor, type Settings } from './config.js';
import { describe, LABELS, labelValue, REVISION_METADATA_KEY } from './names.js';

/** Checks what can be checked without running the artifact; throws a non-retryable error. */
export function validateArtifact(revision: DeployerRevision): void {
  const a = revision.artifact;
  const id = revision.revision_id;
  if (a.image !== undefined) checkImageReference(id, a.image);
  if (a.binary !== undefined && !/^(https?|gs):\/\//.test(a.binary)) {
    throw new ProviderError(
      `revision "${id}": artifact.binary must be an http(s):// or gs:// URL the VMs can fetch, got "${a.binary}"`,
    );
  }
  if (a.image === undefined && a.binary === undefined && !(a.command && a.command.length > 0)) {
    throw new ProviderError(`revision "${id}" has no artifact.image, artifact.binary or artifact.command to run`);
  }
  // Backend service connectionDraining.drainingTimeoutSec takes 0-3600 s.
  if (revision.drain_seconds > MAX_DRAIN_SECONDS) {
    throw new ProviderError(
      `revision "${id}": drain_seconds ${revision.drain_seconds} is over Compute Engine's connection draining limit of ${MAX_DRAIN_SECONDS} s`,
    );
  }
}

/** Compute Engine limits (docs/deployers/gcp-compute.md, Limits). */
export const MAX_DRAIN_SECONDS = 3600;
export const MAX_METADATA_VALUE_BYTES = 256 * 1024;
export const MAX_METADATA_TOTAL_BYTES = 512 * 1024;

/** Throws before any call when the template's metadata is over what Compute Engine takes. */
export function checkMetadata(revisionId: string, items: Array<{ key: string; value: string }>): void {
  for (const i of items) {
    const bytes = Buffer.byteLength(i.value);
    if (bytes > MAX_METADATA_VALUE_BYTES) {
      throw new ProviderError(
        `revision "${revisionId}": metadata "${i.key}" is ${bytes} bytes; a Compute Engine metadata value takes at most ` +
          `${MAX_METADATA_VALUE_BYTES} bytes (256 KB): move large artifact.env values into a secret store or the image`,
      );
    }
  }
  const total = items.reduce((n, i) => n + Buffer.byteLength(i.key) + Buffer.byteLength(i.value), 0);
  if (total > MAX_METADATA_TOTAL_BYTES) {
    throw new ProviderError(
      `revision "${revisionId}": its metadata is ${total} bytes together; Compute Engine takes at most ${MAX_METADATA_TOTAL_BYTES}`,
    );
  }
}

export function templateBody(
  settings: Settings,
  environmentId: string,
  deployment: DeployerDeployment,
  revision: DeployerRevision,
  name: string,
): Json {
  const machine = machineTypeFor(revision.resources, settings.machine_type);
  // One startup-script for every artifact kind (boot-script.ts), not the deprecated container
  // declaration; it holds references to secrets, never their values.
  const items = [
    { key: REVISION_METADATA_KEY, value: revision.revision_id },
    { key: 'startup-script', value: startupScript(settings, revision) },
  ];
  checkMetadata(revision.revision_id, items);
  const nic: Json = { network: settings.network };
  if (settings.subnetwork) nic.subnetwork = settings.subnetwork;
  if (settings.external_ip) nic.accessConfigs = [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }];
  return {
    name,
    description: describe({
      environment: environmentId,
      deployment: deployment.deployment_id,
      revision: revision.revision_id,
    }),
    properties: {
      machineType: machine.name,
      labels: {
        [LABELS.environment]: labelValue(environmentId),
        [LABELS.deployment]: labelValue(deployment.deployment_id),
        [LABELS.revision]: labelValue(revision.revision_id),
      },
      tags: { items: settings.network_tags },
      metadata: { items },
      networkInterfaces: [nic],
      disks: [
        {
          boot: true,
          autoDelete: true,
          type: 'PERSISTENT',
          initializeParams: {
            sourceImage: bootImage(revision, settings),
            diskSizeGb: '10',
          },
        },
      ],
      // The VM's identity pulls private images (Artifact Registry) with no stored key: the configured
      // account, else the project's Compute Engine default service account ('default').
      serviceAccounts: [
        { email: settings.service_account ?? 'default', scopes: ['https://www.googleapis.com/auth/cloud-platform'] },
      ],
      ...(machine.gpu ? { scheduling: { onHostMaintenance: 'TERMINATE', automaticRestart: true } } : {}),
    },
  };
}
