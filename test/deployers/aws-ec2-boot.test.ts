/**
 * aws-ec2 boot scripts: secrets reach the instances as references and are fetched at boot
 * with the instance profile (never a value in RunInstances user data), ECR images are pulled
 * after a login through the same identity, GPU revisions get drivers and `--gpus all` per AMI
 * family, and what the instances cannot fetch is refused at validate with FILE:LINE:COL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BootOptions, userData } from '../../src/deployers/aws-ec2/boot-script.js';
import type { AwsEc2Deployer } from '../../src/deployers/aws-ec2/deployer.js';
import { bootFailure } from '../fakes/aws/guest.js';
import { createDeployer, environment, opts, revision, split } from '../fakes/aws/env.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';
import { FAKE_ACCESS_KEY_ID, FAKE_AMI, FAKE_SECRET_ACCESS_KEY, FAKE_SUBNETS, FAKE_VPC } from '../fakes/aws/server.js';
import { FakeSecretStores } from '../fakes/secrets/server.js';
import { bp, tempDir, writeFile } from '../helpers/cli.js';

const CANARY = 'canary-ec2-7d1e9f30b2';
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web:1';
const boot = (over: Partial<BootOptions> = {}): BootOptions => ({
  app_port: 8080,
  region: 'eu-west-1',
  instance_profile: 'bp-web',
  ...over,
});

describe('aws-ec2 user data with secrets', () => {
  const rev = revision('sec-v1', {
    artifact: {
      image: 'registry.example.com/web:1',
      env: {
        GREETING: 'hello $${HOME}',
        TOKEN: '${secret:aws-sm:prod/web#token}',
        OLD: '${secret:aws-sm:prod/web@AWSPREVIOUS}',
        PINNED: '${secret:aws-sm:arn:aws:secretsmanager:us-west-2:123456789012:secret:db-AbCdEf@0a1b2c3d}',
        API_KEY: '${secret:aws-ssm:/prod/api-key@3}',
      },
    },
  });

  it('fetches each reference with the AWS CLI (instance profile credentials) before docker run', () => {
    const script = userData(rev, boot());
    const lines = script.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `bp_v=$(aws secretsmanager get-secret-value --region eu-west-1 --secret-id 'prod/web' --query SecretString --output text | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; sys.stdout.write(v if isinstance(v,str) else json.dumps(v,separators=(",",":")))' 'token')`,
        `bp_v=$(aws secretsmanager get-secret-value --region eu-west-1 --secret-id 'prod/web' --version-stage 'AWSPREVIOUS' --query SecretString --output text)`,
        `bp_v=$(aws secretsmanager get-secret-value --region us-west-2 --secret-id 'arn:aws:secretsmanager:us-west-2:123456789012:secret:db-AbCdEf' --version-id '0a1b2c3d' --query SecretString --output text)`,
        `bp_v=$(aws ssm get-parameter --region eu-west-1 --name '/prod/api-key:3' --with-decryption --query Parameter.Value --output text)`,
        'bp_put TOKEN "$bp_v"',
        'bp_put API_KEY "$bp_v"',
        'GREETING=hello ${HOME}',
        'PORT=8080',
      ]),
    );
    // Secrets land in the env file before the container starts; nothing traces the script.
    const put = lines.findIndex((l) => l === 'bp_put API_KEY "$bp_v"');
    expect(put).toBeLessThan(lines.findIndex((l) => l.startsWith('docker run')));
    expect(script).not.toMatch(/set -x|TOKEN=|API_KEY=/);
  });

  it('refuses, in the deployer too, what validate refuses', () => {
    expect(() => userData(rev, boot({ instance_profile: undefined }))).toThrow(/names no instance_profile/);
    const envRef = revision('env-v1', { artifact: { image: 'a/b:1', env: { T: '${env:TOKEN}' } } });
    expect(() => userData(envRef, boot())).toThrow(/\$\{env:TOKEN\}.*plaintext/);
  });

  it('logs in to ECR through the instance profile before docker run; the fake guest pulls only then', () => {
    const script = userData(revision('ecr-v1', { artifact: { image: ECR, env: {} } }), boot());
    expect(bootFailure(script, 'bp-web')).toBeNull();
    expect(bootFailure(script, null)).toMatch(/no instance profile/);
    const noLogin = script
      .split('\n')
      .filter((l) => !l.includes('docker login'))
      .join('\n');
    expect(bootFailure(noLogin, 'bp-web')).toMatch(/pull access denied/);
  });

  it('gives GPU revisions drivers, the container toolkit and --gpus all, per AMI family', () => {
    const gpu = revision('gpu-v1', { resources: { cpu: 4, memory_mb: 16384, replicas: 1, gpu: 1 } });
    const al = userData(gpu, boot());
    expect(al).toContain('dnf module install -y nvidia-driver:latest-dkms');
    expect(al).toContain('nvidia-ctk runtime configure --runtime=docker');
    expect(al).toMatch(/docker run -d --restart=always --name bp-gpu-v1 --gpus all /);
    const ubuntu = userData(gpu, boot({ ami_family: 'ubuntu' }));
    expect(ubuntu).toContain('ubuntu-drivers install --gpgpu');
    expect(ubuntu).toContain('apt-get install -y -q nvidia-container-toolkit');
    const dl = userData(gpu, boot({ ami_family: 'deep-learning' }));
    expect(dl).not.toMatch(/nvidia-driver|ubuntu-drivers/);
    expect(dl).toContain('--gpus all');
    expect(userData(revision('cpu-v1'), boot())).not.toMatch(/nvidia|--gpus/);
    // A GPU instance type makes a GPU revision even with resources.gpu 0.
    expect(userData(revision('g5-v1'), boot({ instance_type: 'g5.xlarge' }))).toContain('--gpus all');
  });
});

describe('aws-ec2 boot through the fake', () => {
  const { fake } = fakeAwsForSuite();
  let d: AwsEc2Deployer;
  beforeAll(async () => {
    d = await createDeployer(fakeConfig(fake(), { instance_profile: 'bp-web' }));
  });
  afterAll(async () => {
    await d.close();
  });

  it('launches with the instance profile; a private ECR image with secrets boots healthy', async () => {
    const v1 = revision('priv-v1', { artifact: { image: ECR, env: { TOKEN: '${secret:aws-sm:prod/web#token}' } } });
    const env = environment('priv', [{ id: 'web', revisions: [v1], traffic: split(['priv-v1', 10000]) }]);
    await d.warmRevision(env, 'priv-v1', opts());
    const run = fake().journal.find((j) => j.action === 'RunInstances')!;
    expect(run.params['IamInstanceProfile.Name']).toBe('bp-web');
    const script = Buffer.from(run.params.UserData, 'base64').toString('utf8');
    expect(script).toContain("--secret-id 'prod/web'");
    expect(script).toContain('docker login --username AWS');
    await d.archiveRevision(env, 'priv-v1', opts());
  });
});

describe('aws-ec2 secrets through bp apply and bp validate', () => {
  const { fake } = fakeAwsForSuite();
  const stores = new FakeSecretStores();
  const t = tempDir('bp-ec2-boot-');
  beforeAll(async () => {
    await stores.start();
    stores.putSecret('prod/web', JSON.stringify({ token: CANARY }));
  });
  afterAll(async () => {
    await stores.stop();
    t.cleanup();
  });

  const envFile = (config: string[], env: string[], resources = '') =>
    [
      'schema: bp.environment/v1',
      'environment_id: boot',
      'deployers:',
      '  aws:',
      '    type: aws-ec2',
      '    config:',
      ...config.map((l) => `      ${l}`),
      'deployments:',
      '  - deployment_id: web',
      '    deployer: aws',
      '    revisions:',
      '      - revision_id: boot-v1',
      '        artifact:',
      '          image: registry.example.com/web:1',
      '          env:',
      ...env.map((l) => `            ${l}`),
      ...(resources ? [`        resources: ${resources}`] : []),
      '        health: { http_path: /healthz, timeout_seconds: 5 }',
      '        drain_seconds: 0',
      '    traffic:',
      '      - { revision_id: boot-v1, weight_bps: 10000 }',
      '',
    ].join('\n');
  const baseConfig = () => [
    'region: us-east-1',
    `endpoint: ${fake().endpoint}`,
    `listener_arn: ${fake().elbv2.listenerArn}`,
    `vpc_id: ${FAKE_VPC}`,
    `subnet_ids: [${FAKE_SUBNETS.join(', ')}]`,
    `ami_id: ${FAKE_AMI}`,
    'boot_seconds: 2',
    'poll_interval_ms: 50',
  ];
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stores.url,
  };

  it('apply sends RunInstances user data with the reference and never the canary; bp never fetches it', async () => {
    writeFile(
      join(t.dir, 'env.yaml'),
      envFile([...baseConfig(), 'instance_profile: bp-web'], ['TOKEN: "${secret:aws-sm:prod/web#token}"']),
    );
    const r = await bp(['apply', 'env.yaml', '--auto-approve', '--state-dir', join(t.dir, 'state')], {
      cwd: t.dir,
      env: { ...env, AWS_ENDPOINT_URL_SECRETS_MANAGER: stores.url },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runs = fake().journal.filter((j) => j.action === 'RunInstances');
    expect(runs.length).toBeGreaterThan(0);
    for (const j of runs) {
      const script = Buffer.from(j.params.UserData, 'base64').toString('utf8');
      expect(script).toContain("aws secretsmanager get-secret-value --region us-east-1 --secret-id 'prod/web'");
      expect(script).not.toContain(CANARY);
      expect(JSON.stringify(j.params)).not.toContain(CANARY);
    }
    // bp itself never read the secret: only the instance does, at boot.
    expect(stores.journal.filter((j) => j.headers['x-amz-target'] === 'secretsmanager.GetSecretValue')).toEqual([]);
  }, 120_000);

  it('validate refuses secrets without instance_profile, ${env:}, other stores, mixed values and GPUs on ami_family other', async () => {
    writeFile(
      join(t.dir, 'bad.yaml'),
      envFile(
        [...baseConfig(), 'ami_family: other'],
        [
          'A: "${secret:aws-sm:prod/web#token}"',
          'B: "${env:HOME}"',
          'C: "${secret:vault:secret/app#token}"',
          'D: "Bearer ${secret:aws-ssm:/x}"',
        ],
        '{ cpu: 4, memory_mb: 16384, gpu: 1 }',
      ),
    );
    const r = await bp(['validate', 'bad.yaml'], { cwd: t.dir, env });
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/bad\.yaml:24:\d+: .*env A is a secret, and deployer "aws" names no instance_profile/);
    expect(out).toMatch(/bad\.yaml:25:\d+: .*env B is \$\{env:HOME\}: aws-ec2 VMs fetch their secrets themselves/);
    expect(out).toMatch(/bad\.yaml:26:\d+: .*references the store vault/);
    expect(out).toMatch(/bad\.yaml:27:\d+: .*mixes a secret reference with other text/);
    expect(out).toMatch(/bad\.yaml:28:\d+: .*needs a GPU, and deployer "aws" has ami_family "other"/);
    expect(out).not.toMatch(/\n\s+at /);
  });
});
