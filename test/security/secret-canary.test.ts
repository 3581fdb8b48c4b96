/**
 * The canary test (docs/secrets.md): one canary secret, set in a secret store (Vault's HTTP API,
 * the wire-level fake in test/fakes/secrets) and referenced by `${secret:vault:...}` from an app's
 * env and from deployer configs, is searched for after plan and apply, and never found, in:
 * both state backends (the local state dir with journals and backups, and PostgreSQL: every
 * table, through pg_dump), the saved plan file, stdout/stderr of every command (text and
 * --json), webhook bodies (a receiver here), the store fake's request journal, and
 * /proc/PID/cmdline and /proc/PID/environ of every process but the replicas of the one revision
 * that declares it (so not the other revision's replicas, nor the router). The failures that
 * quote it really happen: an app that prints its token while starting and crashes, a plugin
 * whose error contains the value, and a DNS failure on a deployer config value (ssh host).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../deployers/local-process-fixtures.js';
import { FakeSecretStores } from '../fakes/secrets/server.js';
import { bp, ROOT, tempDir, writeFile, type RunResult } from '../helpers/cli.js';
import { startCluster, type Cluster } from '../state/pg/cluster.js';

// A valid host name, so the same value fails DNS resolution for real.
const CANARY = 'cnry-7d2k9w-beef.invalid';
const REF = '${secret:vault:secret/canary#token}';
const PG_BIN = process.env.BP_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

const fakes = new FakeSecretStores();
const bodies: string[] = [];
let receiver: http.Server;
let cluster: Cluster;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Files bp wrote; a replica's log is the app's own output, written by the app (docs/secrets.md). */
function writtenFiles(dir: string): string[] {
  return walk(dir).filter((f) => statSync(f).isFile() && !/\/logs?\//.test(f) && !f.endsWith('.log'));
}

function procFile(pid: string, name: string): string {
  try {
    return readFileSync(`/proc/${pid}/${name}`).toString('latin1');
  } catch {
    return ''; // gone, or a kernel thread
  }
}

function envYaml(dir: string, id: string, ports: number[], hook: string, failing: boolean): string {
  const app = JSON.stringify(join(ROOT, 'examples/app/server.mjs'));
  const deployment = (name: string, deployer: string, port: number, command: string, env: string) => [
    `  - deployment_id: ${name}`,
    `    deployer: ${deployer}`,
    `    listen: 127.0.0.1:${port}`,
    '    revisions:',
    `      - revision_id: ${name}-v1`,
    `        artifact: { command: [node, ${command}], env: ${env} }`,
    '        health: { http_path: /healthz, timeout_seconds: 10 }',
    '        drain_seconds: 0',
    '    traffic:',
    `      - { revision_id: ${name}-v1, weight_bps: 10000 }`,
  ];
  return [
    'schema: bp.environment/v1',
    `environment_id: ${id}`,
    'deployers:',
    '  local: { type: local-process, config: {} }',
    `  leaky: { type: ./leaky-plugin.mjs, config: { api_key: "${REF}" } }`,
    '  remote:',
    '    type: ssh',
    '    config:',
    '      connect_timeout_seconds: 5',
    `      hosts: [{ host: "${REF}", user: bp, private_key_path: ./id_ed25519, host_key: "SHA256:AAAA" }]`,
    'notifications:',
    `  - { url: "${hook}", events: ["apply.started", "apply.finished", "step.failed"] }`,
    'deployments:',
    '  - deployment_id: web',
    '    deployer: local',
    `    listen: 127.0.0.1:${ports[0]}`,
    '    revisions:',
    '      - revision_id: web-v1',
    `        artifact: { command: [node, ${app}], env: { VERSION: web-v1, MARK: canary-holder, TOKEN: "${REF}" } }`,
    '        health: { http_path: /healthz, timeout_seconds: 20 }',
    '        drain_seconds: 0',
    '      - revision_id: web-v2',
    `        artifact: { command: [node, ${app}], env: { VERSION: web-v2, MARK: no-secret } }`,
    '        health: { http_path: /healthz, timeout_seconds: 20 }',
    '        drain_seconds: 0',
    '    traffic:',
    '      - { revision_id: web-v1, weight_bps: 9000 }',
    '      - { revision_id: web-v2, weight_bps: 1000 }',
    ...(failing
      ? [
          ...deployment('crash', 'local', ports[1], JSON.stringify(join(dir, 'crash.mjs')), `{ TOKEN: "${REF}" }`),
          ...deployment('plug', 'leaky', ports[2], app, '{ VERSION: plug }'),
          ...deployment('far', 'remote', ports[3], app, '{ VERSION: far }'),
        ]
      : []),
    '',
  ].join('\n');
}

interface Scenario {
  t: ReturnType<typeof tempDir>;
  stateDir: string;
  outputs: RunResult[];
  database: string | null;
  backend: string[];
}

async function runScenario(kind: 'local' | 'postgres'): Promise<Scenario> {
  const t = tempDir(`bp-canary-${kind}-`);
  const stateDir = join(t.dir, 'state');
  const url = kind === 'postgres' ? await cluster.createDatabase('bp_canary') : null;
  const backend = url ? ['--backend', url, '--state-dir', stateDir] : ['--state-dir', stateDir];
  const s: Scenario = {
    t,
    stateDir,
    outputs: [],
    database: url ? new URL(url.replace('@/', '@x/')).pathname.slice(1) : null,
    backend,
  };
  const env = { VAULT_ADDR: fakes.url, VAULT_TOKEN: fakes.vaultToken };
  const run = async (args: string[]) => {
    const r = await bp([...args, ...backend], { cwd: t.dir, env });
    s.outputs.push(r);
    return r;
  };
  writeFile(join(t.dir, 'crash.mjs'), 'console.error(`starting with token ${process.env.TOKEN}`);\nprocess.exit(3);\n');
  writeFile(
    join(t.dir, 'leaky-plugin.mjs'),
    [
      `import { MemoryDeployer } from ${JSON.stringify(join(ROOT, 'examples/plugins/memory-deployer.mjs'))};`,
      'class Leaky extends MemoryDeployer {',
      '  constructor(config, ctx) { super(config, ctx); this.key = config.api_key; }',
      '  async stageRevision() { throw Object.assign(new Error(`upstream refused api key ${this.key}`), { code: "Provider" }); }',
      '}',
      'export default { type: "leaky", apiVersion: 1,',
      '  configSchema: { type: "object", properties: { file: { type: "string", default: "p.json" }, api_key: { type: "string" } } },',
      '  create: (config, ctx) => new Leaky(config, ctx) };',
      '',
    ].join('\n'),
  );
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(t.dir, 'id_ed25519')]);
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const id = `canary-${kind}`;
  writeFile(join(t.dir, 'web.yaml'), envYaml(t.dir, id, ports, hook, false));
  writeFile(join(t.dir, 'env.yaml'), envYaml(t.dir, id, ports, hook, true));
  const web = await run(['apply', 'web.yaml', '--auto-approve']);
  expect(web.code, web.stdout + web.stderr).toBe(0);
  expect((await run(['plan', 'env.yaml', '--out', 'plan.json'])).code).toBe(0);
  const text = await run(['apply', 'env.yaml', '--auto-approve', '--retries', '1']);
  expect(text.code, text.stdout + text.stderr).not.toBe(0);
  const json = await run(['apply', 'env.yaml', '--auto-approve', '--json', '--retries', '1']);
  expect(json.code).not.toBe(0);
  await run(['state', 'show', id, '--json']);
  await run(['state', 'show', id]);
  return s;
}

function pgDump(database: string): string {
  return execFileSync(join(PG_BIN, 'pg_dump'), ['-h', cluster.socketDir, '-p', '5432', '-U', cluster.user, database], {
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

const scenarios: Partial<Record<'local' | 'postgres', Scenario>> = {};

beforeAll(async () => {
  await fakes.start();
  fakes.putKv('secret/canary', { token: CANARY });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  cluster = await startCluster();
  scenarios.local = await runScenario('local');
  scenarios.postgres = await runScenario('postgres');
}, 300_000);

afterAll(async () => {
  for (const s of Object.values(scenarios)) {
    await bp(['destroy', 'env.yaml', '--auto-approve', ...s.backend], {
      cwd: s.t.dir,
      env: { VAULT_ADDR: fakes.url, VAULT_TOKEN: fakes.vaultToken },
    });
    s.t.cleanup();
  }
  receiver?.close();
  await Promise.all([fakes.stop(), cluster?.stop()]);
}, 180_000);

describe.each(['local', 'postgres'] as const)('the canary secret, with the %s state backend', (kind) => {
  const s = () => scenarios[kind]!;

  it('the failures that quote it really happened, each recorded redacted', () => {
    const all = s()
      .outputs.map((r) => r.stdout + r.stderr)
      .join('\n');
    expect(all).toMatch(/starting with token \[redacted\]/);
    expect(all).toMatch(/upstream refused api key \[redacted\]/);
    expect(all).toMatch(/ENOTFOUND/);
  });

  it('is never in stdout/stderr of any command, text or --json', () => {
    expect(s().outputs.length).toBeGreaterThanOrEqual(6);
    expect(s().outputs.filter((r) => (r.stdout + r.stderr).includes(CANARY))).toEqual([]);
  });

  it('is never in the state (state dir with journals and backups, or every PostgreSQL table) nor the plan file', () => {
    const files = [join(s().t.dir, 'plan.json'), ...writtenFiles(s().stateDir)];
    expect(files.filter((f) => readFileSync(f, 'utf8').includes(CANARY))).toEqual([]);
    if (kind === 'local') {
      expect(files.some((f) => f.endsWith('state.json'))).toBe(true);
      expect(files.some((f) => /journal/.test(f))).toBe(true);
      expect(files.some((f) => /backup|\.bak/.test(f))).toBe(true);
    } else {
      const dump = pgDump(s().database!);
      expect(dump).toContain('[redacted]');
      expect(dump).toContain('upstream refused api key');
      expect(dump).not.toContain(CANARY);
    }
  });
});

describe('the canary secret, outside bp', () => {
  it('is never in a webhook body', () => {
    expect(bodies.some((b) => b.includes('"step.failed"'))).toBe(true);
    expect(bodies.filter((b) => b.includes(CANARY))).toEqual([]);
  });

  it("is never in the store fake's request journal", () => {
    expect(fakes.journal.some((j) => j.url.includes('/v1/secret/data/canary'))).toBe(true);
    expect(fakes.journal.filter((j) => JSON.stringify(j).includes(CANARY))).toEqual([]);
  });

  it('is in no /proc/PID/cmdline, and in /proc/PID/environ only of the replicas of the revision that declares it', () => {
    const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    const environs = new Map(pids.map((p) => [p, procFile(p, 'environ')]));
    expect(pids.filter((p) => procFile(p, 'cmdline').includes(CANARY))).toEqual([]);
    const holders = [...environs].filter(([, e]) => e.includes(CANARY));
    // Both scenarios run web-v1 (the revision that declares TOKEN): delivered for real.
    expect(holders.length).toBeGreaterThanOrEqual(2);
    expect(holders.filter(([, e]) => !e.includes('MARK=canary-holder'))).toEqual([]);
    // The other revision's replicas are running, and clean.
    expect([...environs.values()].filter((e) => e.includes('MARK=no-secret')).length).toBeGreaterThanOrEqual(2);
  });
});
