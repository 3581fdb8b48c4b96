/**
 * azure-vm custom data: secrets are fetched at boot from Key Vault with a token of the VM's
 * user-assigned managed identity from IMDS (never a value in customData), ACR images pull after
 * the IMDS-token-to-ACR-refresh-token exchange, GPU revisions on Ubuntu get drivers and
 * `--gpus all`, and what the VMs cannot do is refused at validate with FILE:LINE:COL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customData } from '../../src/deployers/azure-vm/custom-data.js';
import type { BootSettings } from '../../src/deployers/azure-vm/boot-script.js';
import { AzureVmDeployer } from '../../src/deployers/azure-vm/deployer.js';
import { settingsFrom } from '../../src/deployers/azure-vm/config.js';
import { bootFailure } from '../fakes/azure/guests.js';
import { FAKE_LOCATION, FAKE_RESOURCE_GROUP, FAKE_SUBSCRIPTION, type FakeArm } from '../fakes/azure/server.js';
import { bp, tempDir, writeFile } from '../helpers/cli.js';
import {
  environment,
  FIXTURE_IDENTITY,
  fakeConfig,
  opts,
  revision,
  silent,
  split,
  startFake,
} from './azure-vm-fixtures.js';

const CANARY = 'canary-azure-5c2b7e91';
const ACR = 'myregistry.azurecr.io/web:1';
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const boot = (over: Partial<BootSettings> = {}): BootSettings => ({
  port: 8080,
  managed_identity: FIXTURE_IDENTITY,
  ...over,
});
const TOKEN = `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&msi_res_id=${encodeURIComponent(FIXTURE_IDENTITY)}&resource=`;

describe('azure-vm custom data', () => {
  const rev = revision('sec-v1', {
    artifact: {
      image: ACR,
      env: {
        GREETING: 'hi',
        TOKEN: '${secret:azure-kv:bp-vault/web-token}',
        CFG: '${secret:azure-kv:bp-vault.vault.azure.cn/cfg@0123456789abcdef0123456789abcdef#api_key}',
      },
    },
  });

  it('fetches Key Vault secrets and logs in to ACR with the managed identity before the container starts', () => {
    const text = decode(customData(rev, boot()));
    expect(text).toContain(`  curl -fsS --retry 10 --retry-connrefused -H Metadata:true '${TOKEN}'"$1" |`);
    expect(text).toContain(
      `bp_v=$(printf 'Authorization: Bearer %s\\n' "$(bp_token 'https%3A%2F%2Fvault.azure.net')" | curl -fsS --retry 5 -H @- 'https://bp-vault.vault.azure.net/secrets/web-token?api-version=7.4' | python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["value"])')`,
    );
    expect(text).toContain(
      `"$(bp_token 'https%3A%2F%2Fvault.azure.cn')" | curl -fsS --retry 5 -H @- 'https://bp-vault.vault.azure.cn/secrets/cfg/0123456789abcdef0123456789abcdef?api-version=7.4'`,
    );
    expect(text).toContain("'https://myregistry.azurecr.io/oauth2/exchange'");
    expect(text).toContain(
      "printf '%s' \"$bp_rt\" | docker login --username 00000000-0000-0000-0000-000000000000 --password-stdin 'myregistry.azurecr.io'",
    );
    // boot.sh runs before the pull, on every start; the unit reads the env file it rebuilt.
    const unit = text.slice(text.indexOf('[Service]'));
    expect(unit.indexOf('ExecStartPre=/bin/bash /etc/bp/boot.sh')).toBeLessThan(unit.indexOf('docker pull'));
    expect(text).toContain('EnvironmentFile=-/etc/bp/app.env');
    expect(text).toContain('- path: /etc/bp/plain.docker.env');
    expect(text).toContain('      GREETING=hi');
    expect(text).not.toMatch(/set -x|TOKEN=|CFG=/);
  });

  it('runs no boot script for a public image without secrets', () => {
    const text = decode(customData(revision('pub-v1', { artifact: { image: 'web:1', env: { A: 'b' } } }), boot()));
    expect(text).not.toMatch(/boot\.sh|Metadata:true|docker login/);
    expect(text).toContain('- path: /etc/bp/docker.env');
  });

  it('gives GPU revisions on Ubuntu the driver, the container toolkit and --gpus all', () => {
    const gpu = revision('gpu-v1', {
      artifact: { image: 'web:1', env: {} },
      resources: { cpu: 4, memory_mb: 16384, replicas: 1, gpu: 1 },
    });
    const text = decode(customData(gpu, boot({ vm_size: 'Standard_NC4as_T4_v3' })));
    expect(text).toContain('ubuntu-drivers install --gpgpu');
    expect(text).toContain('nvidia-ctk runtime configure --runtime=docker');
    expect(text).toContain('  - [bash, /etc/bp/gpu.sh]');
    expect(text).toContain('docker run --rm --name bp-app --gpus all ');
    expect(decode(customData(revision('cpu-v1'), boot()))).not.toMatch(/nvidia|--gpus/);
  });

  it('the fake guest boots only with an identity and an ACR login', () => {
    const data = customData(rev, boot());
    expect(bootFailure(data, true)).toBeNull();
    expect(bootFailure(data, false)).toMatch(/no managed identity/);
    const noLogin = Buffer.from(
      decode(data)
        .split('\n')
        .filter((l) => !l.includes('docker login'))
        .join('\n'),
    ).toString('base64');
    expect(bootFailure(noLogin, true)).toMatch(/unauthorized/);
  });
});

describe('azure-vm boot through the fake and the CLI', () => {
  let fake: FakeArm;
  const t = tempDir('bp-azure-boot-');
  beforeAll(async () => {
    fake = await startFake({ opDelayMs: 5, timings: { bootMs: 30, healthyAfterMs: 30 } });
  });
  afterAll(async () => {
    await fake.close();
    t.cleanup();
  });

  it('a VM with the identity serves a private ACR image with secrets; customData holds references only', async () => {
    const d = new AzureVmDeployer(settingsFrom(fakeConfig(fake)), silent);
    const v1 = revision('priv-v1', {
      artifact: { image: ACR, env: { TOKEN: '${secret:azure-kv:bp-vault/web-token}' } },
      resources: { cpu: 1, memory_mb: 512, replicas: 1, gpu: 0 },
    });
    const env = environment([{ id: 'web', revisions: [v1], traffic: split(['priv-v1', 10000]) }]);
    await d.warmRevision(env, 'priv-v1', opts());
    const vm = fake.store.all().find((r) => r.type === 'Microsoft.Compute/virtualMachines')!;
    expect(vm.identity).toEqual({ type: 'UserAssigned', userAssignedIdentities: { [FIXTURE_IDENTITY]: {} } });
    const text = decode(fake.guests.customData.get(vm.id.toLowerCase())!);
    expect(text).toContain('/secrets/web-token?api-version=7.4');
    expect(text).not.toContain(CANARY);
    await d.archiveRevision(env, 'priv-v1', opts());
    await d.close?.();
  }, 60_000);

  it('validate refuses secrets and ACR images without managed_identity, ${env:}, bad refs and GPUs off Ubuntu', async () => {
    writeFile(
      join(t.dir, 'bad.yaml'),
      [
        'schema: bp.environment/v1',
        'environment_id: boot',
        'deployers:',
        '  az:',
        '    type: azure-vm',
        '    config:',
        `      subscription_id: ${FAKE_SUBSCRIPTION}`,
        `      resource_group: ${FAKE_RESOURCE_GROUP}`,
        `      location: ${FAKE_LOCATION}`,
        `      subnet_id: ${fake.subnetId}`,
        '      image: "OpenLogic:CentOS:8_5:latest"',
        'deployments:',
        '  - deployment_id: web',
        '    deployer: az',
        '    revisions:',
        '      - revision_id: boot-v1',
        '        artifact:',
        `          image: ${ACR}`,
        '          env:',
        '            A: "${secret:azure-kv:bp-vault/web-token}"',
        '            B: "${env:HOME}"',
        '            C: "${secret:azure-kv:no-slash}"',
        '        resources: { cpu: 4, memory_mb: 16384, gpu: 1 }',
        '    traffic:',
        '      - { revision_id: boot-v1, weight_bps: 10000 }',
        '',
      ].join('\n'),
    );
    const r = await bp(['validate', 'bad.yaml'], { cwd: t.dir });
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/bad\.yaml:18:\d+: .*pulls from the Azure Container Registry myregistry\.azurecr\.io/);
    expect(out).toMatch(/bad\.yaml:20:\d+: .*env A is a secret, and deployer "az" names no managed_identity/);
    expect(out).toMatch(/bad\.yaml:21:\d+: .*env B is \$\{env:HOME\}: azure-vm VMs fetch/);
    expect(out).toMatch(/bad\.yaml:22:\d+: .*an azure-kv reference is VAULT\/NAME/);
    expect(out).toMatch(/bad\.yaml:23:\d+: .*needs a GPU: on azure-vm bp installs the NVIDIA driver only on Ubuntu/);
  });
});
