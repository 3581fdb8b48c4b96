/**
 * gcp-compute startup-scripts: image revisions run with Docker from a startup-script (no
 * deprecated container declaration), secrets are fetched at boot from Secret Manager with the
 * service account's metadata-server token (never a value in the instance metadata), Artifact
 * Registry images pull after a login with the same token, GPU revisions on COS get the driver
 * and devices, and what the VMs cannot do is refused at validate with FILE:LINE:COL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcpComputeDeployer } from '../../src/deployers/gcp-compute/deployer.js';
import { startupScript } from '../../src/deployers/gcp-compute/boot-script.js';
import { settingsFrom } from '../../src/deployers/gcp-compute/config.js';
import { bootFailure } from '../fakes/gcp/guest.js';
import type { FakeGce } from '../fakes/gcp/fake-gce.js';
import { bp, tempDir, writeFile } from '../helpers/cli.js';
import { environment, fakeConfig, opts, PROJECT, revision, startFake, ZONE } from './gcp-compute-fixtures.js';

const AR = 'europe-west1-docker.pkg.dev/bp-test/app/web:1';
const settings = (over = {}) => settingsFrom({ project: PROJECT, zone: ZONE, service_account: 'web@p.iam', ...over });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('gcp-compute startup-script', () => {
  const rev = revision('sec-v1', {
    artifact: {
      image: AR,
      env: {
        GREETING: 'hi',
        TOKEN: '${secret:gcp-sm:web-token}',
        PINNED: '${secret:gcp-sm:projects/other-proj/secrets/db@7}',
      },
    },
  });

  it('runs the image with Docker after fetching secrets and logging in with the metadata token', () => {
    const script = startupScript(settings(), rev);
    const lines = script.split('\n');
    expect(script).not.toContain('gce-container-declaration');
    expect(lines).toEqual(
      expect.arrayContaining([
        "  curl -fsS --retry 10 --retry-connrefused -H 'Metadata-Flavor: Google' 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token' |",
        `bp_v=$(printf 'Authorization: Bearer %s\\n' "$(bp_token)" | curl -fsS --retry 5 -H @- 'https://secretmanager.googleapis.com/v1/projects/${PROJECT}/secrets/web-token/versions/latest:access' | sed -n 's/.*"data"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' | base64 -d)`,
        `bp_v=$(printf 'Authorization: Bearer %s\\n' "$(bp_token)" | curl -fsS --retry 5 -H @- 'https://secretmanager.googleapis.com/v1/projects/other-proj/secrets/db/versions/7:access' | sed -n 's/.*"data"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' | base64 -d)`,
        'bp_put TOKEN "$bp_v"',
        "bp_token | docker login --username oauth2accesstoken --password-stdin 'https://europe-west1-docker.pkg.dev'",
        `docker run -d --restart=always --name bp-app --env-file /var/lib/bp/app.env -p 8080:8080 '${AR}'`,
        'GREETING=hi',
      ]),
    );
    const login = lines.findIndex((l) => l.includes('docker login'));
    expect(login).toBeGreaterThan(lines.findIndex((l) => l === 'bp_put PINNED "$bp_v"'));
    expect(login).toBeLessThan(lines.findIndex((l) => l.startsWith('docker run')));
    expect(script).not.toMatch(/set -x|TOKEN=/);
  });

  it('binary revisions append fetched secrets to the systemd env file, with a JSON key on Debian', () => {
    const bin = revision('bin-v1', {
      artifact: { binary: 'https://example.com/app', env: { K: '${secret:gcp-sm:cfg#api_key}' } },
    });
    const script = startupScript(settings(), bin);
    expect(script).toContain(`>> /opt/bp/env`);
    expect(script).toContain("python3 -c 'import json,sys;");
    expect(script).toContain("'api_key')");
    expect(script).toContain('--property=EnvironmentFile=/opt/bp/env');
  });

  it('gives GPU image revisions on COS the cos-extensions driver and the devices', () => {
    const gpu = revision('gpu-v1', {
      artifact: { image: 'web:1', env: {} },
      resources: { cpu: 4, memory_mb: 16384, replicas: 1, gpu: 1 },
    });
    const script = startupScript(settings(), gpu);
    expect(script).toContain('cos-extensions install gpu');
    expect(script).toContain('--device /dev/nvidia0:/dev/nvidia0');
    expect(script).toContain('--volume /var/lib/nvidia/lib64:/usr/local/nvidia/lib64');
    expect(startupScript(settings(), revision('cpu-v1'))).not.toContain('nvidia');
  });

  it('the fake guest boots only with a service account and a registry login', () => {
    const meta = (s: string) => ({ items: [{ key: 'startup-script', value: s }] });
    const script = startupScript(settings(), rev);
    expect(bootFailure(meta(script), [{ email: 'web@p.iam' }])).toBeNull();
    expect(bootFailure(meta(script), [])).toMatch(/without a service account/);
    const noLogin = script
      .split('\n')
      .filter((l) => !l.includes('docker login'))
      .join('\n');
    expect(bootFailure(meta(noLogin), [{ email: 'web@p.iam' }])).toMatch(/pull access denied/);
  });
});

describe('gcp-compute boot through the fake and the CLI', () => {
  let fake: FakeGce;
  const t = tempDir('bp-gce-boot-');
  beforeAll(async () => {
    fake = await startFake({ timings: { bootMs: 40, healthyAfterMs: 40, repairDelayMs: 50 } });
  });
  afterAll(async () => {
    await fake.close();
    t.cleanup();
  });

  it('a private Artifact Registry image with secrets serves; the template holds references only', async () => {
    const d = new GcpComputeDeployer(settingsFrom(fakeConfig(fake, { service_account: 'web@p.iam' })), quiet);
    const v1 = revision('priv-v1', {
      artifact: { image: AR, env: { TOKEN: '${secret:gcp-sm:web-token}' } },
      resources: { cpu: 0.5, memory_mb: 512, replicas: 1, gpu: 0 },
    });
    const env = environment([{ id: 'web', revisions: [v1] }]);
    await d.warmRevision(env, 'priv-v1', opts());
    const template = fake.store.all('instanceTemplates').find((x) => String(x.name).includes('priv'))!;
    const props = template.properties as { metadata: { items: Array<{ key: string; value: string }> } };
    expect(props.metadata.items.map((i) => i.key).sort()).toEqual(['bp-revision-id', 'startup-script']);
    expect(props.metadata.items.find((i) => i.key === 'startup-script')!.value).toContain('secrets/web-token');
    await d.archiveRevision(env, 'priv-v1', opts());
  }, 60_000);

  it('validate refuses secrets without service_account, ${file:}, other stores, COS JSON keys and GPUs off COS', async () => {
    writeFile(join(t.dir, 'token.txt'), 'x');
    writeFile(
      join(t.dir, 'bad.yaml'),
      [
        'schema: bp.environment/v1',
        'environment_id: boot',
        'deployers:',
        '  gce:',
        '    type: gcp-compute',
        `    config: { project: ${PROJECT}, zone: ${ZONE}, endpoint: "${fake.endpoint}" }`,
        'deployments:',
        '  - deployment_id: web',
        '    deployer: gce',
        '    revisions:',
        '      - revision_id: boot-v1',
        '        artifact:',
        '          image: web:1',
        '          env:',
        '            A: "${secret:gcp-sm:web-token}"',
        '            B: "${file:./token.txt}"',
        '            C: "${secret:aws-sm:prod/web}"',
        '            D: "${secret:gcp-sm:cfg#key}"',
        '      - revision_id: boot-v2',
        '        artifact: { binary: "https://example.com/app" }',
        '        resources: { cpu: 4, memory_mb: 16384, gpu: 1 }',
        '    traffic:',
        '      - { revision_id: boot-v1, weight_bps: 10000 }',
        '',
      ].join('\n'),
    );
    const r = await bp(['validate', 'bad.yaml'], { cwd: t.dir });
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/bad\.yaml:15:\d+: .*env A is a secret, and deployer "gce" names no service_account/);
    expect(out).toMatch(/bad\.yaml:16:\d+: .*env B is \$\{file:\.\/token\.txt\}: gcp-compute VMs fetch/);
    expect(out).toMatch(/bad\.yaml:17:\d+: .*references the store aws-sm/);
    expect(out).toMatch(/bad\.yaml:18:\d+: .*needs python3, which Container-Optimized OS lacks/);
    expect(out).toMatch(/bad\.yaml:21:\d+: .*revision "boot-v2" needs a GPU/);
  });
});
