/**
 * What a revision's VMs do at boot beyond running the artifact, as one script
 * (`/etc/bp/boot.sh`, run by the unit's ExecStartPre, so again before every restart): fetch
 * `${secret:azure-kv:VAULT/NAME}` values from Key Vault's REST API with a token of the VM's
 * user-assigned managed identity from the Instance Metadata Service, and log Docker in to an
 * Azure Container Registry by exchanging that identity's token for an ACR refresh token. The
 * custom data holds references only. GPU revisions on Ubuntu get the NVIDIA driver and
 * container toolkit once, at first boot (docs/deployers/azure-vm.md).
 */
import type { DeployerRevision, EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { bootEnv, bootEnvRefused, bootSecretProblems } from '../kit/boot-secrets.js';
import type { BootSecret, BootSecretRules } from '../kit/boot-secrets.js';
import { bearerGet, jsonKeyFilter, scriptHead, secretLines, shellQuote, tokenFunction } from '../kit/boot-script.js';
import { vmSizeFor, type AzureVmConfig, VM_SIZES } from './config.js';

/** What the custom data depends on: these fields of the deployer config (`port` defaults to 8080). */
export type BootSettings = Pick<AzureVmConfig, 'port' | 'managed_identity' | 'image' | 'vm_size'>;

/** `VAULT/NAME`: a vault name (VAULT.vault.azure.net) or a vault host, and a secret name. */
const KV_REF = /^([a-z0-9-]{3,24}|[a-z0-9-]+(\.[a-z0-9-]+)+)\/([A-Za-z0-9-]{1,127})$/i;

export const AZURE_BOOT_RULES: BootSecretRules = {
  deployer: 'azure-vm',
  stores: ['azure-kv'],
  storeNames: 'Azure Key Vault (azure-kv)',
  metadataName: 'VM custom data',
  identityField: 'managed_identity',
  identityWhat: 'user-assigned managed identity',
  example: '${secret:azure-kv:my-vault/web-token}',
  check: (s) =>
    KV_REF.test(s.ref)
      ? s.version !== undefined && !/^[0-9a-f]{32}$/i.test(s.version)
        ? `${s.text}: a Key Vault secret version is its 32-character hex id`
        : null
      : `${s.text}: an azure-kv reference is VAULT/NAME (a vault name or host, then the secret name)`,
};

/** `NAME.azurecr.io` (and the sovereign clouds' azurecr.cn / azurecr.us). */
export function acrRegistry(image: string): string | null {
  const host = image.split('/')[0];
  return /^[a-z0-9]{5,50}\.azurecr\.(io|cn|us)$/.test(host) ? host : null;
}

/** Prints one string field of the JSON on stdin (the VM images are Ubuntu, which has python3). */
const jsonField = (field: string) => `python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["${field}"])'`;

function vaultHost(ref: string): string {
  const vault = ref.split('/')[0];
  return vault.includes('.') ? vault : `${vault}.vault.azure.net`;
}

/** Key Vault `GET /secrets/NAME[/VERSION]` with the identity's token on stdin, the value cut out with python3. */
export function kvFetchCommand(s: BootSecret): string {
  const host = vaultHost(s.ref);
  const name = s.ref.split('/')[1];
  const resource = `https://${host.split('.').slice(1).join('.')}`;
  const url = `https://${host}/secrets/${name}${s.version ? `/${s.version}` : ''}?api-version=7.4`;
  const cmd = `${bearerGet(url, `bp_token ${shellQuote(encodeURIComponent(resource))}`)} | ${jsonField('value')}`;
  return s.key === undefined ? cmd : `${cmd} | ${jsonKeyFilter(s.key)}`;
}

function imdsTokenFunction(identity: string): string[] {
  const url =
    'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01' +
    `&msi_res_id=${encodeURIComponent(identity)}&resource=`;
  return [
    '# A token of the VM identity for resource $1, from the Instance Metadata Service.',
    ...tokenFunction(`-H Metadata:true '${url}'"$1"`, jsonField('access_token')),
  ];
}

/** ACR's token exchange: an Entra token of the identity for an ACR refresh token Docker logs in with. */
function acrLogin(registry: string): string[] {
  const q = shellQuote(registry);
  return [
    `bp_aad=$(bp_token ${shellQuote(encodeURIComponent('https://management.azure.com/'))})`,
    `bp_rt=$(printf 'grant_type=access_token&service=%s&access_token=%s' ${q} "$bp_aad" | ` +
      `curl -fsS --retry 5 -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @- 'https://${registry}/oauth2/exchange' | ` +
      `${jsonField('refresh_token')})`,
    `printf '%s' "$bp_rt" | docker login --username 00000000-0000-0000-0000-000000000000 --password-stdin ${q}`,
    'unset bp_aad bp_rt',
  ];
}

/** Plain env files written by cloud-init; boot.sh turns them into the unit's env files. */
export const PLAIN_DOCKER_ENV = '/etc/bp/plain.docker.env';
export const PLAIN_SYSTEMD_ENV = '/etc/bp/plain.app.env';

/**
 * `/etc/bp/boot.sh`, or null when the revision needs none (no secret, no ACR image): it
 * rebuilds /etc/bp/docker.env and /etc/bp/app.env from the plain files plus fetched secrets.
 */
export function bootScript(revision: DeployerRevision, s: BootSettings): string[] | null {
  const { secrets } = bootEnv(revision, AZURE_BOOT_RULES, s.managed_identity);
  const registry = revision.artifact.image !== undefined ? acrRegistry(revision.artifact.image) : null;
  if (secrets.length === 0 && !(registry && s.managed_identity)) return null;
  return [
    ...scriptHead(
      'Written by bp: fetches secrets and logs in to the registry with the VM identity. No secret value here.',
    ),
    `cp ${PLAIN_DOCKER_ENV} /etc/bp/docker.env.new`,
    `cp ${PLAIN_SYSTEMD_ENV} /etc/bp/app.env.new`,
    ...imdsTokenFunction(s.managed_identity!),
    ...secretLines(secrets, kvFetchCommand, { docker: '/etc/bp/docker.env.new', systemd: '/etc/bp/app.env.new' }),
    'mv /etc/bp/docker.env.new /etc/bp/docker.env',
    'mv /etc/bp/app.env.new /etc/bp/app.env',
    ...(registry ? acrLogin(registry) : []),
  ];
}

export function isGpu(resources: { gpu: number }, vmSize: string | undefined): boolean {
  if (resources.gpu > 0) return true;
  const size = vmSize ?? '';
  return /^Standard_N/i.test(size) || (VM_SIZES.find((v) => v.name === size)?.gpu ?? 0) > 0;
}

const UBUNTU = /^Canonical:/i;

/** First-boot set-up of a GPU revision on Ubuntu: the driver, and for images the container toolkit. */
export function gpuScript(image: boolean): string[] {
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    'export DEBIAN_FRONTEND=noninteractive',
    'command -v nvidia-smi >/dev/null || (apt-get update -q && apt-get install -y -q ubuntu-drivers-common && ubuntu-drivers install --gpgpu)',
    'modprobe nvidia',
    ...(image
      ? [
          'if ! command -v nvidia-ctk >/dev/null; then',
          '  curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg',
          "  curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#' > /etc/apt/sources.list.d/nvidia-container-toolkit.list",
          '  apt-get update -q && apt-get install -y -q nvidia-container-toolkit',
          'fi',
          'nvidia-ctk runtime configure --runtime=docker',
          'systemctl restart docker',
        ]
      : []),
    'nvidia-smi >/dev/null',
  ];
}

/** True when `bootProblems` refuses the revision's env (then its custom data is not checked further). */
export function bootRefused(config: AzureVmConfig, revision: DeployerRevision): boolean {
  return bootEnvRefused(revision, AZURE_BOOT_RULES, config.managed_identity);
}

/** Validation (`checkEnvironment`): secrets, ACR images and GPUs the VMs cannot serve. */
export function bootProblems(config: AzureVmConfig, env: Environment, instance: string): EnvironmentProblem[] {
  const problems = bootSecretProblems(env, instance, AZURE_BOOT_RULES, config.managed_identity);
  const image = config.image ?? 'Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest';
  env.deployments.forEach((d, di) => {
    if (d.deployer !== instance) return;
    d.revisions.forEach((r, ri) => {
      const at = ['deployments', di, 'revisions', ri];
      const registry = r.artifact.image !== undefined ? acrRegistry(r.artifact.image) : null;
      if (registry && !config.managed_identity) {
        problems.push({
          path: [...at, 'artifact', 'image'],
          message:
            `revision "${r.revision_id}" pulls from the Azure Container Registry ${registry}, and deployer "${instance}" ` +
            'names no managed_identity: the VMs log in with that identity (AcrPull on the registry); set managed_identity',
        });
      }
      let gpu = false;
      try {
        gpu = isGpu(r.resources, vmSizeFor(r.resources, config.vm_size));
      } catch {
        return; // no size fits: reported with the catalog
      }
      if (gpu && !UBUNTU.test(image)) {
        problems.push({
          path: [...at, 'resources', 'gpu'],
          message:
            `revision "${r.revision_id}" needs a GPU: on azure-vm bp installs the NVIDIA driver only on Ubuntu ` +
            `images (publisher Canonical), and deployer "${instance}" boots ${image}`,
        });
      }
    });
  });
  return problems;
}
