/**
 * The user data of a revision's instances (cloud-init runs it as root on first boot). It holds
 * no secret value: `${secret:aws-sm:…}` / `${secret:aws-ssm:…}` references are fetched here with
 * the instance profile's credentials (the AWS CLI takes them from IMDSv2), an ECR image is
 * pulled after `docker login` with a token of the same identity, and GPU revisions get the
 * NVIDIA driver and container toolkit of the AMI family (docs/deployers/aws-ec2.md).
 */
import type { DeployerRevision, EnvironmentProblem } from '../../model/deployer.js';
import type { Environment } from '../../model/environment.js';
import { bootEnv, bootEnvRefused, bootSecretProblems } from '../kit/boot-secrets.js';
import type { BootSecret, BootSecretRules } from '../kit/boot-secrets.js';
import { dockerRunArgs, jsonKeyFilter, scriptHead, secretLines, shellQuote, writeEnvFile } from '../kit/boot-script.js';
import type { AwsEc2Config } from './config.js';

export type AmiFamily = 'amazon-linux-2023' | 'deep-learning' | 'ubuntu' | 'other';
export const AMI_FAMILIES: readonly AmiFamily[] = ['amazon-linux-2023', 'deep-learning', 'ubuntu', 'other'];

/** What the user data depends on: these fields of the deployer config. */
export type BootOptions = Pick<
  AwsEc2Config,
  'app_port' | 'region' | 'instance_profile' | 'ami_family' | 'instance_type'
>;

/** True when `bootProblems` refuses the revision's env (then nothing else about its user data is checked). */
export function bootRefused(config: AwsEc2Config, revision: DeployerRevision): boolean {
  return bootEnvRefused(revision, AWS_BOOT_RULES, config.instance_profile);
}

export const AWS_BOOT_RULES: BootSecretRules = {
  deployer: 'aws-ec2',
  stores: ['aws-sm', 'aws-ssm'],
  storeNames: 'AWS Secrets Manager (aws-sm) or SSM Parameter Store (aws-ssm)',
  metadataName: 'EC2 user data',
  identityField: 'instance_profile',
  identityWhat: 'IAM instance profile',
  example: '${secret:aws-sm:prod/web#token}',
};

/** `123456789012.dkr.ecr.eu-west-1.amazonaws.com[.cn]/repo:tag` -> its registry host and region. */
export function ecrRegistry(image: string): { host: string; region: string } | null {
  const m = /^(\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)\//.exec(image);
  return m ? { host: m[1], region: m[2] } : null;
}

const INSTALL_AWS_CLI =
  'command -v aws >/dev/null || (dnf install -y awscli || yum install -y awscli || apt-get install -y awscli)';

/**
 * An ECR image is pulled with the instance's own identity: the instance profile's role gets a
 * registry token from ECR (ecr:GetAuthorizationToken) through IMDSv2 credentials, and Docker
 * logs in with it. No key is stored; the permissions are listed in docs/deployers/aws-ec2.md.
 */
function registryLogin(image: string): string[] {
  const ecr = ecrRegistry(image);
  if (!ecr) return [];
  return [
    INSTALL_AWS_CLI,
    `aws ecr get-login-password --region ${ecr.region} | docker login --username AWS --password-stdin ${shellQuote(ecr.host)}`,
  ];
}

/** The region of a Secrets Manager ARN, else the deployer's. */
function secretRegion(ref: string, region: string): string {
  return /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(ref)?.[1] ?? region;
}

/** The AWS CLI command printing one secret's value (the bp resolver's semantics: stage or id pins). */
export function awsFetchCommand(s: BootSecret, region: string): string {
  let cmd: string;
  if (s.store === 'aws-sm') {
    const pin =
      s.version === undefined
        ? ''
        : /^AWS[A-Z]+$/.test(s.version)
          ? ` --version-stage ${shellQuote(s.version)}`
          : ` --version-id ${shellQuote(s.version)}`;
    cmd =
      `aws secretsmanager get-secret-value --region ${secretRegion(s.ref, region)} --secret-id ${shellQuote(s.ref)}` +
      `${pin} --query SecretString --output text`;
  } else {
    const name = s.version === undefined ? s.ref : `${s.ref}:${s.version}`;
    cmd = `aws ssm get-parameter --region ${region} --name ${shellQuote(name)} --with-decryption --query Parameter.Value --output text`;
  }
  return s.key === undefined ? cmd : `${cmd} | ${jsonKeyFilter(s.key)}`;
}

const GPU_TYPE = /^(p\d|g\d|gr\d)/;

export function isGpuRevision(revision: { resources: { gpu: number } }, instanceType: string | undefined): boolean {
  return revision.resources.gpu > 0 || (instanceType !== undefined && GPU_TYPE.test(instanceType));
}

/**
 * The NVIDIA driver and, for images, the container toolkit with Docker configured to use it,
 * per AMI family: the Deep Learning AMIs carry both; Amazon Linux 2023 and Ubuntu install them
 * from NVIDIA's repositories. `other` never gets here (refused at validate).
 */
function gpuSetup(family: AmiFamily, image: boolean): string[] {
  const check = 'nvidia-smi >/dev/null';
  if (family === 'deep-learning') return [check];
  const lines =
    family === 'ubuntu'
      ? [
          'export DEBIAN_FRONTEND=noninteractive',
          'command -v nvidia-smi >/dev/null || (apt-get update -q && apt-get install -y -q ubuntu-drivers-common && ubuntu-drivers install --gpgpu)',
          'modprobe nvidia',
        ]
      : [
          'command -v nvidia-smi >/dev/null || (dnf install -y dkms kernel-devel-$(uname -r) kernel-modules-extra && ' +
            'dnf config-manager --add-repo https://developer.download.nvidia.com/compute/cuda/repos/amzn2023/x86_64/cuda-amzn2023.repo && ' +
            'dnf module install -y nvidia-driver:latest-dkms)',
          'modprobe nvidia',
        ];
  if (image) {
    lines.push(
      family === 'ubuntu'
        ? 'command -v nvidia-ctk >/dev/null || (curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg && ' +
            "curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#' > /etc/apt/sources.list.d/nvidia-container-toolkit.list && " +
            'apt-get update -q && apt-get install -y -q nvidia-container-toolkit)'
        : 'command -v nvidia-ctk >/dev/null || (curl -fsSL https://nvidia.github.io/libnvidia-container/stable/rpm/nvidia-container-toolkit.repo -o /etc/yum.repos.d/nvidia-container-toolkit.repo && ' +
            'dnf install -y nvidia-container-toolkit)',
      'nvidia-ctk runtime configure --runtime=docker',
      'systemctl restart docker',
    );
  }
  lines.push(check);
  return lines;
}

/**
 * The instance's startup script: writes the revision's plain env plus PORT, fetches its
 * secrets, then runs the image with Docker (installed if the AMI lacks it) or fetches and runs
 * the binary under systemd; both restart on failure.
 */
export function userData(revision: DeployerRevision, boot: BootOptions | number): string {
  const o: BootOptions = typeof boot === 'number' ? { app_port: boot, region: 'us-east-1' } : boot;
  const { plain, secrets } = bootEnv(revision, AWS_BOOT_RULES, o.instance_profile);
  const env: Record<string, string> = { ...plain, PORT: String(o.app_port) };
  const name = `bp-${revision.revision_id.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
  const envFile = `/etc/bp/${name}.env`;
  // The systemd unit reads the same file as Docker does (values unquoted).
  const lines = [...scriptHead(), 'install -d -m 0700 /etc/bp', ...writeEnvFile(envFile, env, 'docker')];
  if (secrets.length > 0) {
    lines.push(INSTALL_AWS_CLI);
    if (secrets.some((s) => s.key !== undefined))
      lines.push('command -v python3 >/dev/null || dnf install -y python3 || apt-get install -y python3');
    lines.push(...secretLines(secrets, (s) => awsFetchCommand(s, o.region), { docker: envFile }));
  }
  const gpu = isGpuRevision(revision, o.instance_type);
  const family = o.ami_family ?? 'amazon-linux-2023';
  if (revision.artifact.image) {
    lines.push(
      'command -v docker >/dev/null || (dnf install -y docker || yum install -y docker || apt-get install -y docker.io)',
      'systemctl enable --now docker',
      ...(gpu ? gpuSetup(family, true) : []),
      ...registryLogin(revision.artifact.image),
      `docker run -d --restart=always ${dockerRunArgs({ name, flags: gpu ? ' --gpus all' : '', envFile, port: o.app_port, image: revision.artifact.image })}`,
    );
  } else {
    lines.push(
      ...(gpu ? gpuSetup(family, false) : []),
      `install -d /opt/bp/${name}`,
      `curl -fsSL --retry 5 -o /opt/bp/${name}/app ${shellQuote(revision.artifact.binary!)}`,
      `chmod 0755 /opt/bp/${name}/app`,
      `cat > /etc/systemd/system/${name}.service <<'BP_UNIT_EOF'`,
      '[Service]',
      `EnvironmentFile=${envFile}`,
      `ExecStart=/opt/bp/${name}/app`,
      'Restart=always',
      '[Install]',
      'WantedBy=multi-user.target',
      'BP_UNIT_EOF',
      'systemctl daemon-reload',
      `systemctl enable --now ${name}.service`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Validation (`checkEnvironment`): secrets the instances cannot fetch, GPUs the AMI family cannot drive. */
export function bootProblems(config: AwsEc2Config, env: Environment, instance: string): EnvironmentProblem[] {
  const problems = bootSecretProblems(env, instance, AWS_BOOT_RULES, config.instance_profile);
  if ((config.ami_family ?? 'amazon-linux-2023') !== 'other') return problems;
  env.deployments.forEach((d, di) => {
    if (d.deployer !== instance) return;
    d.revisions.forEach((r, ri) => {
      if (!isGpuRevision(r, config.instance_type)) return;
      problems.push({
        path: ['deployments', di, 'revisions', ri, 'resources', 'gpu'],
        message:
          `revision "${r.revision_id}" needs a GPU, and deployer "${instance}" has ami_family "other": bp installs NVIDIA ` +
          'drivers only on amazon-linux-2023 and ubuntu, and uses those of deep-learning AMIs; set ami_family',
      });
    });
  });
  return problems;
}
