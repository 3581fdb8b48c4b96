/**
 * The instance template of a revision: what every VM of its instance group boots. An
 * `artifact.image` runs on Container-Optimized OS through a `gce-container-declaration`
 * (what `gcloud compute instance-templates create-with-container` writes); `artifact.binary`
 * and `artifact.command` run under systemd from a startup script on a general-purpose image.
 * Revision env values go into instance metadata: readable by anyone who may read the VMs.
 */
import type { DeployerDeployment, DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import type { Json } from './api.js';
import { machineTypeFor, type Settings } from './config.js';
import { describe, LABELS, labelValue, REVISION_METADATA_KEY } from './names.js';

/** A Docker/OCI image reference: [host[:port]/]path[:tag][@digest]. */
const IMAGE_REF =
  /^(?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

function yamlQuote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Checks what can be checked without running the artifact; throws a non-retryable error. */
export function validateArtifact(revision: DeployerRevision): void {
  const a = revision.artifact;
  const id = revision.revision_id;
  if (a.image !== undefined && !IMAGE_REF.test(a.image)) {
    throw new ProviderError(`revision "${id}": "${a.image}" is not a valid container image reference`);
  }
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

function containerDeclaration(image: string, env: Record<string, string>): string {
  const lines = ['spec:', '  containers:', '    - name: app', `      image: ${yamlQuote(image)}`, '      env:'];
  for (const [k, v] of Object.entries(env))
    lines.push(`        - name: ${yamlQuote(k)}`, `          value: ${yamlQuote(v)}`);
  lines.push('      stdin: false', '      tty: false', '  restartPolicy: Always');
  return `${lines.join('\n')}\n`;
}

function startupScript(revision: DeployerRevision, env: Record<string, string>): string {
  const a = revision.artifact;
  const envFile = Object.entries(env)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n');
  const fetch =
    a.binary === undefined
      ? []
      : a.binary.startsWith('gs://')
        ? [`gcloud storage cp ${shellQuote(a.binary)} /opt/bp/app`, 'chmod +x /opt/bp/app']
        : [`curl -fsSL --retry 10 --retry-connrefused -o /opt/bp/app ${shellQuote(a.binary)}`, 'chmod +x /opt/bp/app'];
  const argv = a.binary !== undefined ? ['/opt/bp/app'] : (a.command as string[]);
  return [
    '#!/bin/bash',
    '# Written by bp: runs this revision under systemd, restarted if it exits.',
    'set -euo pipefail',
    'install -d -m 0755 /opt/bp',
    "cat > /opt/bp/env <<'BP_ENV_EOF'",
    envFile,
    'BP_ENV_EOF',
    'chmod 0600 /opt/bp/env',
    ...fetch,
    'systemctl stop bp-app.service 2>/dev/null || true',
    `systemd-run --unit=bp-app --property=Restart=always --property=EnvironmentFile=/opt/bp/env ${argv.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}

export function templateBody(
  settings: Settings,
  environmentId: string,
  deployment: DeployerDeployment,
  revision: DeployerRevision,
  name: string,
): Json {
  const env = { ...revision.artifact.env, PORT: String(settings.port) };
  const machine = machineTypeFor(revision.resources, settings.machine_type);
  const isContainer = revision.artifact.image !== undefined;
  const items = [
    { key: REVISION_METADATA_KEY, value: revision.revision_id },
    ...(isContainer
      ? [
          { key: 'gce-container-declaration', value: containerDeclaration(revision.artifact.image as string, env) },
          { key: 'google-logging-enabled', value: 'true' },
        ]
      : [{ key: 'startup-script', value: startupScript(revision, env) }]),
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
        'container-vm': isContainer ? 'cos-stable' : 'none',
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
            sourceImage: isContainer ? settings.container_image : settings.vm_image,
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
