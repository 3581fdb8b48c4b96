/**
 * `${file:}` and `${secret:STORE:REF@VERSION#KEY}` references resolved at apply through the
 * real AWS SDK clients and Vault's HTTP API against wire-level fakes (test/fakes/secrets),
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

const VALUES = {
  smOld: 'sm-old-pass-1f2e3d',
  sm: 'sm-current-pass-4c5b6a',
  ssm: 'ssm-api-key-7e8f9a',
  vault: 'vault-token-0b1c2d',
  file: 'file-token-3e4f5a',
};
const t = tempDir('bp-secret-refs-');
const stateDir = join(t.dir, 'state');
const fakes = new FakeSecretStores();
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
});
const run = async (args: string[], env: Record<string, string | undefined> = storeEnv()): Promise<RunResult> => {
  const r = await bp([...args, '--state-dir', stateDir], { cwd: t.dir, env });
  outputs.push(r);
  return r;
};

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
  writeFile(join(t.dir, 'token.txt'), `${VALUES.file}\n`);
  listen = `127.0.0.1:${await freePort()}`;
  writeFile(join(t.dir, 'env.yaml'), envFile());
  const applied = await run(['apply', 'env.yaml', '--auto-approve']);
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await fakes.stop();
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
    });
  });

  it('the stores were asked through their real clients: signed AWS calls, a Vault token', () => {
    const targets = fakes.journal.map((j) => j.headers['x-amz-target']).filter(Boolean);
    expect(targets).toEqual(expect.arrayContaining(['secretsmanager.GetSecretValue', 'AmazonSSM.GetParameter']));
    expect(fakes.journal.some((j) => j.url === '/v1/secret/data/app')).toBe(true);
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
      /missing\.yaml:19:\d+: environment variable NOT_SET_ANYWHERE is not set \(referenced by artifact\.env\.NEW/,
    );
  });

  it('a reference outside the places a secret may go is a validation error at FILE:LINE:COL', async () => {
    writeFile(join(t.dir, 'outside.yaml'), envFile().replace(`listen: ${listen}`, 'listen: "${env:LISTEN}"'));
    const r = await run(['validate', 'outside.yaml']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/outside\.yaml:8:\d+: listen .*may not hold the reference \$\{env:LISTEN\}/);
  });

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
