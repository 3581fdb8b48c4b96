/**
 * The custom data (cloud-init) each VM of a revision boots with: it writes the revision's plain
 * env (plus PORT) to root-only files and runs the artifact under systemd, restarted if it exits.
 * `artifact.image` runs with Docker (installed from the image's apt if missing);
 * `artifact.binary` is fetched from its URL; `artifact.command` runs as given. Secrets and the
 * registry login go through boot-script.ts: the custom data holds references, never values.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { DeployerRevision } from '../../model/deployer.js';
import { ProviderError } from '../../model/errors.js';
import { checkImageReference } from '../kit/image-reference.js';
import { bootEnv } from '../kit/boot-secrets.js';
import { dockerRunArgs, envFileLines, shellQuote } from '../kit/boot-script.js';
import {
  AZURE_BOOT_RULES,
  bootScript,
  gpuScript,
  isGpu,
  PLAIN_DOCKER_ENV,
  PLAIN_SYSTEMD_ENV,
  type BootSettings,
} from './boot-script.js';

/**
 * Azure's limit on custom data (Compute REST reference, OSProfile.customData): the decoded
 * binary array is at most 65,535 bytes; its base64 form at most 87,380 characters.
 */
export const MAX_CUSTOM_DATA = 65535;

/** Checks what can be checked without a VM; throws a non-retryable error naming the problem. */
export function validateArtifact(revision: DeployerRevision): void {
  const a = revision.artifact;
  const id = revision.revision_id;
  if (a.image !== undefined) checkImageReference(id, a.image);
  if (a.binary !== undefined && !/^https?:\/\//.test(a.binary)) {
    throw new ProviderError(
      `revision "${id}": artifact.binary must be an http(s):// URL the VMs can fetch (a blob SAS URL, a release asset), got "${a.binary}"`,
    );
  }
  if (a.image === undefined && a.binary === undefined && !(a.command && a.command.length > 0)) {
    throw new ProviderError(`revision "${id}" has no artifact.image, artifact.binary or artifact.command to run`);
  }
  for (const [k, v] of Object.entries(a.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\r\n\0]/.test(v)) {
      throw new ProviderError(
        `revision "${id}": env ${JSON.stringify(k)} cannot be passed to a VM (names are [A-Za-z_][A-Za-z0-9_]*, values one line)`,
      );
    }
  }
}

/** Indents a block for a YAML literal (`|`) scalar. */
const block = (lines: string[], indent: string) => lines.map((l) => `${indent}${l}`).join('\n');

export function customData(revision: DeployerRevision, boot: BootSettings | number): string {
  const settings: BootSettings = typeof boot === 'number' ? { port: boot } : boot;
  const port = settings.port ?? 8080;
  const a = revision.artifact;
  const { plain } = bootEnv(revision, AZURE_BOOT_RULES, settings.managed_identity);
  const env = { ...plain, PORT: String(port) };
  const boot_ = bootScript(revision, settings);
  const gpu = isGpu(revision.resources, settings.vm_size) ? gpuScript(a.image !== undefined) : null;
  let exec: string[];
  let prepare: string[] = [];
  if (a.image !== undefined) {
    exec = [
      'ExecStartPre=-/usr/bin/docker rm -f bp-app',
      `ExecStartPre=/usr/bin/docker pull ${shellQuote(a.image)}`,
      `ExecStart=/usr/bin/docker run --rm ${dockerRunArgs({ name: 'bp-app', flags: gpu ? ' --gpus all' : '', envFile: '/etc/bp/docker.env', port, image: a.image })}`,
    ];
    prepare = [
      '  - [sh, -c, "command -v docker >/dev/null || (apt-get update -q && apt-get install -y -q docker.io)"]',
    ];
  } else if (a.binary !== undefined) {
    exec = [
      `ExecStartPre=/usr/bin/curl -fsSL --retry 10 --retry-connrefused -o /opt/bp/app ${shellQuote(a.binary)}`,
      'ExecStartPre=/bin/chmod 0755 /opt/bp/app',
      'ExecStart=/opt/bp/app',
    ];
  } else {
    exec = [`ExecStart=${(a.command as string[]).map(shellQuote).join(' ')}`];
  }
  // With a boot script, the env files are rebuilt by it before every start (fresh secrets,
  // a fresh registry login); without one, cloud-init writes them directly.
  const envFile = (path: string, plainPath: string, lines: string[]) => [
    `  - path: ${boot_ ? plainPath : path}`,
    "    permissions: '0600'",
    '    content: |',
    block(lines, '      '),
  ];
  const script = (path: string, lines: string[]) => [
    `  - path: ${path}`,
    "    permissions: '0700'",
    '    content: |',
    block(lines, '      '),
  ];
  const text = [
    '#cloud-config',
    '# Written by bp: runs this revision under systemd, restarted if it exits. It holds no secret value.',
    'write_files:',
    ...envFile('/etc/bp/docker.env', PLAIN_DOCKER_ENV, envFileLines(env, 'docker')),
    ...envFile('/etc/bp/app.env', PLAIN_SYSTEMD_ENV, envFileLines(env, 'systemd')),
    ...(boot_ ? script('/etc/bp/boot.sh', boot_) : []),
    ...(gpu ? script('/etc/bp/gpu.sh', gpu) : []),
    '  - path: /etc/systemd/system/bp-app.service',
    "    permissions: '0644'",
    '    content: |',
    block(
      [
        '[Unit]',
        `Description=bp revision ${revision.revision_id}`,
        'After=network-online.target docker.service',
        'Wants=network-online.target',
        '[Service]',
        `EnvironmentFile=${boot_ ? '-' : ''}/etc/bp/app.env`,
        'Restart=always',
        'RestartSec=2',
        'TimeoutStartSec=0',
        ...(boot_ ? ['ExecStartPre=/bin/bash /etc/bp/boot.sh'] : []),
        ...exec,
        '[Install]',
        'WantedBy=multi-user.target',
      ],
      '      ',
    ),
    'runcmd:',
    '  - [install, -d, -m, "0755", /opt/bp]',
    ...prepare,
    ...(gpu ? ['  - [bash, /etc/bp/gpu.sh]'] : []),
    '  - [systemctl, daemon-reload]',
    '  - [systemctl, enable, --now, bp-app.service]',
    '',
  ].join('\n');
  if (Buffer.byteLength(text) > MAX_CUSTOM_DATA) {
    throw new ProviderError(
      `revision "${revision.revision_id}": its env makes the VM custom data ${Buffer.byteLength(text)} bytes, over Azure's limit of ${MAX_CUSTOM_DATA} bytes: move large artifact.env values into a secret store or the image`,
    );
  }
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * An OpenSSH `ssh-rsa` public key whose private half is dropped at once: Azure requires a key
 * or a password for a Linux VM, and bp's VMs need no login unless `ssh_public_key` is set.
 */
export function throwawaySshKey(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const mpint = (b64url: string) => {
    let b = Buffer.from(b64url, 'base64url');
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return b;
  };
  const field = (b: Buffer) =>
    Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (24 - 8 * i)) & 0xff)), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), field(mpint(jwk.e)), field(mpint(jwk.n))]);
  return `ssh-rsa ${blob.toString('base64')} bp-throwaway`;
}
