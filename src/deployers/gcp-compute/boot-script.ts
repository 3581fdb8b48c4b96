/**
 * The `startup-script` of a revision's VMs (the guest environment runs it as root on every
 * boot). `artifact.image` runs with Docker on Container-Optimized OS or Debian/Ubuntu: no
 * `gce-container-declaration`, whose container startup agent (konlet) is deprecated.
 * `artifact.binary` / `artifact.command` run under systemd on `vm_image`. The script holds no
 * secret value: `${secret:gcp-sm:…}` references are fetched at boot from Secret Manager's REST
 * API with a token of the VM's service account from the metadata server; Artifact Registry and
 * Container Registry images are pulled after `docker login` with the same token; GPU revisions
 * on COS get the driver from `cos-extensions` and the devices (docs/deployers/gcp-compute.md).
 */
import type { DeployerRevision, EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { bootEnv, bootEnvRefused, bootSecretProblems } from '../kit/boot-secrets.js';
import type { BootSecret, BootSecretRules } from '../kit/boot-secrets.js';
import {
  bearerGet,
  dockerRunArgs,
  jsonKeyFilter,
  scriptHead,
  secretLines,
  shellQuote,
  tokenFunction,
  writeEnvFile,
} from '../kit/boot-script.js';
import { machineTypeFor, type GcpComputeConfig, type Settings } from './config.js';

export type ImageFamily = 'cos' | 'debian' | 'ubuntu' | 'other';

/** `projects/cos-cloud/global/images/family/cos-stable` -> cos; Debian and Ubuntu images by name. */
export function imageFamily(image: string): ImageFamily {
  if (/(^|\/)cos-cloud\/|\/family\/cos-|(^|\/)cos-[a-z0-9-]+$/.test(image)) return 'cos';
  if (/debian/.test(image)) return 'debian';
  if (/ubuntu/.test(image)) return 'ubuntu';
  return 'other';
}

const DEFAULT_CONTAINER_IMAGE = 'projects/cos-cloud/global/images/family/cos-stable';
const DEFAULT_VM_IMAGE = 'projects/debian-cloud/global/images/family/debian-12';

/** The boot image a revision's VMs run. */
export function bootImage(
  revision: { artifact: { image?: string } },
  config: Pick<GcpComputeConfig, 'container_image' | 'vm_image'>,
): string {
  return revision.artifact.image !== undefined
    ? (config.container_image ?? DEFAULT_CONTAINER_IMAGE)
    : (config.vm_image ?? DEFAULT_VM_IMAGE);
}

/** Secret Manager secret ids: 1-255 letters, digits, `_` and `-`; optionally a full resource name. */
const SECRET_REF = /^(?:projects\/[a-z0-9][a-z0-9.:-]*\/secrets\/)?[A-Za-z0-9_-]{1,255}$/;

export function gcpBootRules(family: ImageFamily): BootSecretRules {
  return {
    deployer: 'gcp-compute',
    stores: ['gcp-sm'],
    storeNames: 'Secret Manager (gcp-sm)',
    metadataName: 'instance metadata (startup-script)',
    identityField: 'service_account',
    identityWhat: 'service account',
    example: '${secret:gcp-sm:web-token}',
    check: (s) => {
      if (!SECRET_REF.test(s.ref))
        return `${s.text}: a gcp-sm reference is SECRET or projects/PROJECT/secrets/SECRET (a secret id is 1-255 letters, digits, _ and -)`;
      if (s.version !== undefined && !/^([1-9][0-9]*|latest)$/.test(s.version))
        return `${s.text}: a Secret Manager version is a number or "latest"`;
      if (s.key !== undefined && family === 'cos')
        return `${s.text}: selecting a JSON key needs python3, which Container-Optimized OS lacks; store the key as its own secret, or boot a Debian container_image`;
      return null;
    },
  };
}

/** True when `bootProblems` refuses the revision's env (then its template is not checked further). */
export function bootRefused(config: GcpComputeConfig, revision: DeployerRevision): boolean {
  return bootEnvRefused(revision, gcpBootRules(imageFamily(bootImage(revision, config))), config.service_account);
}

const TOKEN_URL = 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token';

/** A shell function printing an OAuth access token of the VM's service account (metadata server). */
const TOKEN_FUNCTION = tokenFunction(
  `-H 'Metadata-Flavor: Google' '${TOKEN_URL}'`,
  `sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p'`,
);

/**
 * Secret Manager `versions/V:access` over REST with the VM's token (given on stdin, never on a
 * command line); the payload is base64, so `sed` can cut it out on any image.
 */
export function gcpFetchCommand(s: BootSecret, project: string): string {
  const name = s.ref.startsWith('projects/') ? s.ref : `projects/${project}/secrets/${s.ref}`;
  const url = `https://secretmanager.googleapis.com/v1/${name}/versions/${s.version ?? 'latest'}:access`;
  const cmd = `${bearerGet(url)} | ` + `sed -n 's/.*"data"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' | base64 -d`;
  return s.key === undefined ? cmd : `${cmd} | ${jsonKeyFilter(s.key)}`;
}

/** `REGION-docker.pkg.dev` (Artifact Registry) and `[REGION.]gcr.io` (Container Registry) hosts. */
export function googleRegistry(image: string): string | null {
  const host = image.split('/')[0];
  return /^[a-z0-9-]+-docker\.pkg\.dev$/.test(host) || /^([a-z]+\.)?gcr\.io$/.test(host) ? host : null;
}

/** COS's documented GPU set-up: the driver from cos-extensions, its libraries and devices into the container. */
function cosGpu(gpus: number): { setup: string[]; flags: string } {
  const devices = ['/dev/nvidiactl', '/dev/nvidia-uvm', ...Array.from({ length: gpus }, (_, i) => `/dev/nvidia${i}`)];
  return {
    setup: [
      'cos-extensions install gpu',
      'mount --bind /var/lib/nvidia /var/lib/nvidia',
      'mount -o remount,exec /var/lib/nvidia',
      '/var/lib/nvidia/bin/nvidia-smi >/dev/null',
    ],
    flags:
      ' --volume /var/lib/nvidia/lib64:/usr/local/nvidia/lib64 --volume /var/lib/nvidia/bin:/usr/local/nvidia/bin' +
      devices.map((d) => ` --device ${d}:${d}`).join(''),
  };
}

/** The startup-script of a revision's VMs (see the module comment). */
export function startupScript(settings: Settings, revision: DeployerRevision): string {
  const a = revision.artifact;
  const family = imageFamily(bootImage(revision, settings));
  const { plain, secrets } = bootEnv(revision, gcpBootRules(family), settings.service_account);
  const env = { ...plain, PORT: String(settings.port) };
  const image = a.image !== undefined;
  const dir = image ? '/var/lib/bp' : '/opt/bp';
  const envFile = `${dir}/${image ? 'app.env' : 'env'}`;
  const registry = image ? googleRegistry(a.image!) : null;
  const lines = [
    ...scriptHead(
      `Written by bp: runs revision ${revision.revision_id}, restarted if it exits. It holds no secret value.`,
    ),
    `install -d -m 0700 ${dir}`,
    ...writeEnvFile(envFile, env, image ? 'docker' : 'systemd'),
  ];
  if (secrets.length > 0 || registry) lines.push(...TOKEN_FUNCTION);
  lines.push(
    ...secretLines(
      secrets,
      (s) => gcpFetchCommand(s, settings.project),
      image ? { docker: envFile } : { systemd: envFile },
    ),
  );
  if (image) {
    const gpu = machineTypeFor(revision.resources, settings.machine_type).gpu
      ? cosGpu(Math.max(1, revision.resources.gpu))
      : null;
    lines.push(
      // COS keeps / read-only; Docker's credentials go where the script may write.
      `export DOCKER_CONFIG=${dir}/docker`,
      'command -v docker >/dev/null || (apt-get update -q && apt-get install -y -q docker.io)',
      ...(gpu?.setup ?? []),
      ...(registry
        ? [`bp_token | docker login --username oauth2accesstoken --password-stdin ${shellQuote(`https://${registry}`)}`]
        : []),
      'docker rm -f bp-app >/dev/null 2>&1 || true',
      `docker run -d --restart=always ${dockerRunArgs({ name: 'bp-app', flags: gpu?.flags, envFile, port: settings.port, image: a.image! })}`,
    );
  } else {
    const argv = a.binary !== undefined ? ['/opt/bp/app'] : (a.command as string[]);
    if (a.binary !== undefined) {
      lines.push(
        a.binary.startsWith('gs://')
          ? `gcloud storage cp ${shellQuote(a.binary)} /opt/bp/app`
          : `curl -fsSL --retry 10 --retry-connrefused -o /opt/bp/app ${shellQuote(a.binary)}`,
        'chmod 0700 /opt/bp/app',
      );
    }
    lines.push(
      'systemctl stop bp-app.service 2>/dev/null || true',
      `systemd-run --unit=bp-app --property=Restart=always --property=EnvironmentFile=${envFile} ${argv.map(shellQuote).join(' ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Validation (`checkEnvironment`): secrets the VMs cannot fetch, GPUs their image cannot drive. */
export function bootProblems(config: GcpComputeConfig, env: Environment, instance: string): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  env.deployments.forEach((d, di) => {
    if (d.deployer !== instance) return;
    d.revisions.forEach((r, ri) => {
      const family = imageFamily(bootImage(r, config));
      const one = { ...env, deployments: [{ ...d, revisions: [r] }] };
      for (const p of bootSecretProblems(one, instance, gcpBootRules(family), config.service_account)) {
        problems.push({ ...p, path: ['deployments', di, 'revisions', ri, ...p.path.slice(4)] });
      }
      let gpu = false;
      try {
        gpu = machineTypeFor(r.resources, config.machine_type).gpu;
      } catch {
        return; // no machine type fits: reported when staging, with the catalog
      }
      if (gpu && (r.artifact.image === undefined || family !== 'cos')) {
        problems.push({
          path: ['deployments', di, 'revisions', ri, 'resources', 'gpu'],
          message:
            `revision "${r.revision_id}" needs a GPU: on gcp-compute bp installs the NVIDIA driver only for ` +
            'artifact.image revisions on Container-Optimized OS (cos-extensions); use an image revision and a COS container_image',
        });
      }
    });
  });
  return problems;
}
