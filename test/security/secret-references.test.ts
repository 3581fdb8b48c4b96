/**
 * `${file:}` and `${secret:STORE:REF@VERSION#KEY}` references resolved at apply through the
 * real clients of every store kind (AWS Secrets Manager and SSM, GCP Secret Manager, Azure Key
 * Vault, Vault's HTTP API, Kubernetes Secrets) against wire-level fakes (test/fakes/secrets,
 * test/fakes/kube-apiserver),
 * delivered to a real local-process replica, and found nowhere bp writes or prints. Then
 * `bp destroy` runs with no secret reachable at all, a missing variable is reported at
 * FILE:LINE:COL, and a reference outside the places a secret may go is a validation error.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bp, ROOT, tempDir, writeFile, type RunResult } from '../helpers/cli.js';
import { freePort } from '../deployers/local-process-fixtures.js';
import { FakeSecretStores } from '../fakes/secrets/server.js';
import { FakeGcpSecretManager } from '../fakes/secrets/gcp-sm.js';
import { FakeKeyVault, KV_CLIENT, KV_TENANT } from '../fakes/secrets/azure-kv.js';
import { startFakeKubeApiServer, type FakeKube } from '../fakes/kube-apiserver/server.js';
import { writeKubeconfig } from '../fakes/kube-apiserver/kubeconfig.js';

const VALUES = {
  smOld: 'sm-old-pass-1f2e3d',
  sm: 'sm-current-pass-4c5b6a',
  ssm: 'ssm-api-key-7e8f9a',
  vault: 'vault-token-0b1c2d',
  file: 'file-token-3e4f5a',
  gsmOld: 'gsm-old-pass-6a7b8c',
  gsm: 'gsm-current-pass-9d0e1f',
  kvOld: 'kv-old-token-2a3b4c',
  kv: 'kv-current-token-5d6e7f',
  k8s: 'k8s-token-8a9b0c',
  k8sOne: 'k8s-single-1d2e3f',
};
const t = tempDir('bp-secret-refs-');
const stateDir = join(t.dir, 'state');
const fakes = new FakeSecretStores();
const gsm = new FakeGcpSecretManager();
const kv = new FakeKeyVault();
let kube: FakeKube;
let kvOldVersion = '';
let gsmCreds = '';
let kubeconfig = '';
const outputs: RunResult[] = [];
let oldVersion = '';
let listen = '';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const storeEnv = (): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-aws-secret-key',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: fakes.url,
  AWS_ENDPOINT_URL_SSM: fakes.url,
  VAULT_ADDR: fakes.url,
  VAULT_TOKEN: fakes.vaultToken,
  GOOGLE_APPLICATION_CREDENTIALS: gsmCreds,
  GOOGLE_CLOUD_PROJECT: 'bp-test',
  CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER: `${gsm.url}/`,
  AZURE_TENANT_ID: KV_TENANT,
  AZURE_CLIENT_ID: KV_CLIENT.clientId,
  AZURE_CLIENT_SECRET: KV_CLIENT.clientSecret,
  AZURE_AUTHORITY_HOST: kv.url,
  AZURE_KEYVAULT_URL: kv.url,
  // The fake's challenge names vault.azure.net, which 127.0.0.1 is not under (docs/secrets.md).
  BP_AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
  NODE_EXTRA_CA_CERTS: kv.cert.certFile,
  KUBECONFIG: kubeconfig,
});
const run = async (args: string[], env: Record<string, string | undefined> = storeEnv()): Promise<RunResult> => {
  const r = await bp([...args, '--state-dir', stateDir], { cwd: t.dir, env });
  outputs.push(r);
  return r;
};

function putK8sSecret(k: FakeKube, ns: string, name: string, data: Record<string, string>): void {
  const t = k.registry.byKind('v1', 'Secret')!;
  const encoded = Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')]));
  k.store.create(t, ns, { metadata: { name }, data: encoded }, { manager: 'kubectl-create' });
}

function envFile(extraEnv = ''): string {
  return [
    'schema: bp.environment/v1',
    'environment_id: refs',
    'deployers:',
    '  local: { type: local-process, config: {} }',
    'deployments:',
    '  - deployment_id: web',
    '    deployer: local',
    `    listen: ${listen}`,
    '    revisions:',
    '      - revision_id: web-v1',
    `        artifact:`,
    `          command: [node, ${JSON.stringify(join(ROOT, 'examples/app/server.mjs'))}]`,
    '          env:',
    '            SM: "${secret:aws-sm:prod/db#password}"',
    `            SM_OLD: "\${secret:aws-sm:prod/db@${oldVersion}#password}"`,
    '            SSM: "${secret:aws-ssm:/prod/api-key}"',
    '            VAULT: "${secret:vault:secret/app#token}"',
    '            FILE: "${file:./token.txt}"',
    '            GSM: "${secret:gcp-sm:db-pass}"',
    '            GSM_OLD: "${secret:gcp-sm:projects/bp-test/secrets/db-pass@1}"',
    '            KV: "${secret:azure-kv:api-token}"',
    `            KV_OLD: "\${secret:azure-kv:api-token@${kvOldVersion}}"`,
    '            K8S: "${secret:k8s:apps/creds#token}"',
    '            K8S_ONE: "${secret:k8s:single}"',
    extraEnv,
    '        health: { http_path: /healthz, timeout_seconds: 20 }',
    '        drain_seconds: 0',
    '    traffic:',
    '      - { revision_id: web-v1, weight_bps: 10000 }',
    '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

beforeAll(async () => {
  await fakes.start();
  oldVersion = fakes.putSecret('prod/db', JSON.stringify({ user: 'app', password: VALUES.smOld }));
  fakes.putSecret('prod/db', JSON.stringify({ user: 'app', password: VALUES.sm }));
  fakes.putParameter('/prod/api-key', 'ssm-stale-value-000');
  fakes.putParameter('/prod/api-key', VALUES.ssm);
  fakes.putKv('secret/app', { token: VALUES.vault });
  await Promise.all([gsm.start(), kv.start()]);
  gsmCreds = gsm.writeCredentials();
  gsm.addVersion('bp-test', 'db-pass', VALUES.gsmOld);
  gsm.addVersion('bp-test', 'db-pass', VALUES.gsm);
  kvOldVersion = kv.setSecret('api-token', VALUES.kvOld);
  kv.setSecret('api-token', VALUES.kv);
  kube = await startFakeKubeApiServer({ namespaces: ['apps'] });
  kubeconfig = writeKubeconfig(kube.url, { dir: t.dir });
  putK8sSecret(kube, 'apps', 'creds', { token: VALUES.k8s, user: 'app' });
  putK8sSecret(kube, 'default', 'single', { only: VALUES.k8sOne });
  writeFile(join(t.dir, 'token.txt'), `${VALUES.file}\n`);
  listen = `127.0.0.1:${await freePort()}`;
  writeFile(join(t.dir, 'env.yaml'), envFile());
  const applied = await run(['apply', 'env.yaml', '--auto-approve']);
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await Promise.all([fakes.stop(), gsm.stop(), kv.stop(), kube?.close()]);
  t.cleanup();
});

describe('secret references', () => {
  it('the replica got each value: JSON key selected, version pinned, latest by default', () => {
    const [recs] = walk(stateDir).filter((f) => f.endsWith('replicas.json'));
    const [{ pid }] = JSON.parse(readFileSync(recs, 'utf8')) as Array<{ pid: number }>;
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
    );
    expect(env).toMatchObject({
      SM: VALUES.sm,
      SM_OLD: VALUES.smOld,
      SSM: VALUES.ssm,
      VAULT: VALUES.vault,
      FILE: VALUES.file,
      GSM: VALUES.gsm,
      GSM_OLD: VALUES.gsmOld,
      KV: VALUES.kv,
      KV_OLD: VALUES.kvOld,
      K8S: VALUES.k8s,
      K8S_ONE: VALUES.k8sOne,
    });
  });

  it('the stores were asked through their real clients: signed AWS calls, a Vault token', () => {
    const targets = fakes.journal.map((j) => j.headers['x-amz-target']).filter(Boolean);
    expect(targets).toEqual(expect.arrayContaining(['secretsmanager.GetSecretValue', 'AmazonSSM.GetParameter']));
    expect(fakes.journal.some((j) => j.url === '/v1/secret/data/app')).toBe(true);
    // GCP: REST fallback with an STS-exchanged bearer token.
    expect(gsm.journal.map((j) => `${j.status} ${j.url.split('?')[0]}`)).toEqual(
      expect.arrayContaining([
        '200 /v1/token',
        '200 /v1/projects/bp-test/secrets/db-pass/versions/latest:access',
        '200 /v1/projects/bp-test/secrets/db-pass/versions/1:access',
      ]),
    );
    // Key Vault: the bearer challenge first (401 without a token), then the authorized reads.
    const kvCalls = kv.journal.map((j) => `${j.status} ${j.method} ${j.url.split('?')[0]}`);
    expect(kvCalls).toEqual(
      expect.arrayContaining([
        '401 GET /secrets/api-token/',
        `200 POST /${KV_TENANT}/oauth2/v2.0/token`,
        '200 GET /secrets/api-token/',
        `200 GET /secrets/api-token/${kvOldVersion}`,
      ]),
    );
    expect(kube.journal.entries.map((e) => `${e.status} ${e.method} ${e.path}`)).toEqual(
      expect.arrayContaining([
        '200 GET /api/v1/namespaces/apps/secrets/creds',
        '200 GET /api/v1/namespaces/default/secrets/single',
      ]),
    );
  });

  it('no value appears in state, journals, backups, runtime config, or any output', () => {
    const files = walk(stateDir).filter((f) => statSync(f).isFile() && !f.endsWith('.log'));
    const all = [...files.map((f) => readFileSync(f, 'utf8')), ...outputs.map((r) => r.stdout + r.stderr)].join('\n');
    for (const v of Object.values(VALUES)) expect(all).not.toContain(v);
    expect(all).toContain('${secret:aws-sm:prod/db#password}');
  });

  it('a missing variable fails the apply at FILE:LINE:COL, naming it and never a value', async () => {
    writeFile(
      join(t.dir, 'missing.yaml'),
      envFile('            NEW: "${env:NOT_SET_ANYWHERE}"').replace(
        'environment_id: refs',
        'environment_id: refs-missing',
      ),
    );
    const r = await run(['apply', 'missing.yaml', '--auto-approve']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /missing\.yaml:25:\d+: environment variable NOT_SET_ANYWHERE is not set \(referenced by artifact\.env\.NEW/,
    );
  });

  it('a reference outside the places a secret may go is a validation error at FILE:LINE:COL', async () => {
    writeFile(join(t.dir, 'outside.yaml'), envFile().replace(`listen: ${listen}`, 'listen: "${env:LISTEN}"'));
    const r = await run(['validate', 'outside.yaml']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/outside\.yaml:8:\d+: listen .*may not hold the reference \$\{env:LISTEN\}/);
  });

  it('records each store version id (never a value) per revision in state', async () => {
    const state = JSON.parse((await run(['state', 'show', 'refs', '--json'])).stdout);
    const versions = state.revisions['web-v1'].secret_versions as Record<string, string>;
    expect(versions).toMatchObject({
      '${secret:aws-sm:prod/db#password}': expect.stringMatching(/^[0-9a-f-]{36}$/),
      [`\${secret:aws-sm:prod/db@${oldVersion}#password}`]: oldVersion,
      '${secret:aws-ssm:/prod/api-key}': '2',
      '${secret:vault:secret/app#token}': '1',
      '${secret:gcp-sm:db-pass}': '2',
      '${secret:gcp-sm:projects/bp-test/secrets/db-pass@1}': '1',
      [`\${secret:azure-kv:api-token@${kvOldVersion}}`]: kvOldVersion,
      '${secret:k8s:apps/creds#token}': expect.stringMatching(/^[0-9]+$/),
    });
    expect(Object.keys(versions)).toHaveLength(10);
  });

  it('the plan notes a newer version in a store: declare a new revision to roll it out', async () => {
    const smNew = fakes.putSecret('prod/db', JSON.stringify({ user: 'app', password: 'sm-newer-pass-8f7e6d' }));
    gsm.addVersion('bp-test', 'db-pass', 'gsm-newer-pass-5c4b3a');
    const kvNew = kv.setSecret('api-token', 'kv-newer-token-2b1a0f');
    const t = kube.registry.byKind('v1', 'Secret')!;
    const live = kube.store.get(t, 'apps', 'creds');
    kube.store.replace(
      t,
      'apps',
      'creds',
      { ...live, data: { token: Buffer.from('k8s-newer-7e6d5c').toString('base64') } },
      { manager: 'kubectl-edit' },
    );
    const json = await run(['plan', 'env.yaml', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.changes).toBe(false);
    const updates = plan.secret_updates as Array<{ reference: string; current_version: string }>;
    expect(Object.fromEntries(updates.map((u) => [u.reference, u.current_version]))).toEqual({
      '${secret:aws-sm:prod/db#password}': smNew,
      '${secret:gcp-sm:db-pass}': '3',
      '${secret:azure-kv:api-token}': kvNew,
      '${secret:k8s:apps/creds#token}': (kube.store.get(t, 'apps', 'creds').metadata as { resourceVersion: string })
        .resourceVersion,
    });
    expect(updates.every((u) => (u as Record<string, unknown>).revision_id === 'web-v1')).toBe(true);
    const text = await run(['plan', 'env.yaml']);
    expect(text.stdout).toContain(
      'revision web/web-v1 runs version 2 of ${secret:gcp-sm:db-pass}; a newer version exists (3): declare a new revision to roll it out',
    );
    // The newer values were fetched to learn their versions: they are redacted like any other.
    for (const v of ['sm-newer-pass-8f7e6d', 'gsm-newer-pass-5c4b3a', 'kv-newer-token-2b1a0f', 'k8s-newer-7e6d5c'])
      expect(json.stdout + json.stderr + text.stdout + text.stderr).not.toContain(v);
    const offline = await run(['plan', 'env.yaml', '--refresh=false', '--json']);
    expect(JSON.parse(offline.stdout).secret_updates).toBeUndefined();
  }, 60_000);

  it('bp destroy needs no app secret: no store credentials, no file', async () => {
    writeFile(join(t.dir, 'token.txt'), '');
    const r = await run(['destroy', 'env.yaml', '--auto-approve'], {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
      VAULT_ADDR: undefined,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const state = JSON.parse((await run(['state', 'show', 'refs', '--json'])).stdout);
    expect(state.revisions['web-v1'].lifecycle).toBe('archived');
  }, 60_000);
});
