/**
 * One canary secret reaches bp through `${env:...}` references and then comes back inside
 * error messages three ways: an app that prints its token and crashes while starting
 * (local-process), a plugin whose error quotes its configured key, and a DNS failure on a
 * deployer config value (ssh, `getaddrinfo ENOTFOUND <value>`). The canary must then be found
 * nowhere bp prints, records or sends: stdout/stderr (text and --json), state.json, journals,
 * backups, the plan file, and webhook bodies.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bp, ROOT, tempDir, writeFile, type RunResult } from '../helpers/cli.js';
import { freePort } from '../deployers/local-process-fixtures.js';

// A valid host name, so the same value fails DNS resolution for real.
const CANARY = 'cnry-q8vt3x-f00d.invalid';
const t = tempDir('bp-redact-');
const stateDir = join(t.dir, 'state');
const outputs: RunResult[] = [];
const bodies: string[] = [];
let receiver: http.Server;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const run = async (args: string[]): Promise<RunResult> => {
  const r = await bp([...args, '--state-dir', stateDir], { cwd: t.dir, env: { CANARY } });
  outputs.push(r);
  return r;
};

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
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
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  writeFile(
    join(t.dir, 'env.yaml'),
    [
      'schema: bp.environment/v1',
      'environment_id: redact',
      'deployers:',
      '  local: { type: local-process, config: {} }',
      '  leaky: { type: ./leaky-plugin.mjs, config: { api_key: "${env:CANARY}" } }',
      '  remote:',
      '    type: ssh',
      '    config:',
      '      connect_timeout_seconds: 5',
      '      hosts: [{ host: "${env:CANARY}", user: bp, private_key_path: ./id_ed25519, host_key: "SHA256:AAAA" }]',
      'notifications:',
      `  - { url: "${hook}", events: ["apply.started", "apply.finished", "step.failed"] }`,
      'deployments:',
      ...[
        ['crash', 'local', p1],
        ['plug', 'leaky', p2],
        ['far', 'remote', p3],
      ].flatMap(([id, deployer, port]) => [
        `  - deployment_id: ${id}`,
        `    deployer: ${deployer}`,
        `    listen: 127.0.0.1:${port}`,
        '    revisions:',
        `      - revision_id: ${id}-v1`,
        `        artifact: { command: [node, ${JSON.stringify(join(t.dir, 'crash.mjs'))}], env: { TOKEN: "\${env:CANARY}" } }`,
        '        health: { http_path: /healthz, timeout_seconds: 10 }',
        '        drain_seconds: 0',
        '    traffic:',
        `      - { revision_id: ${id}-v1, weight_bps: 10000 }`,
      ]),
      '',
    ].join('\n'),
  );
  expect((await run(['plan', 'env.yaml', '--out', 'plan.json'])).code).toBe(0);
  const text = await run(['apply', 'env.yaml', '--auto-approve', '--retries', '1']);
  expect(text.code, text.stdout + text.stderr).not.toBe(0);
  const json = await run(['apply', 'env.yaml', '--auto-approve', '--json', '--retries', '1']);
  expect(json.code).not.toBe(0);
  await run(['state', 'show', 'redact', '--json']);
  await run(['state', 'show', 'redact']);
}, 180_000);

afterAll(async () => {
  await run(['destroy', 'env.yaml', '--auto-approve']);
  receiver.close();
  t.cleanup();
}, 120_000);

describe('one redactor for every resolved secret', () => {
  it('the three failures really happened, each reported with its cause', () => {
    const file = walk(stateDir).find((f) => f.endsWith('/state.json'));
    const state = JSON.parse(readFileSync(file!, 'utf8'));
    const errs = Object.fromEntries(
      Object.entries(state.revisions as Record<string, { last_error: string | null }>).map(([k, v]) => [
        k,
        v.last_error,
      ]),
    );
    expect(errs['crash-v1']).toMatch(/starting with token \[redacted\]/);
    expect(errs['plug-v1']).toMatch(/upstream refused api key \[redacted\]/);
    expect(errs['far-v1']).toMatch(/\[redacted\].*ENOTFOUND/);
  });

  it('never appears in stdout/stderr of any command, text or --json', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(5);
    const all = outputs.map((r) => r.stdout + r.stderr).join('\n');
    expect(all).toContain('[redacted]');
    expect(all).not.toContain(CANARY);
  });

  it('never appears in state.json, journals, backups or the plan file', () => {
    const files = [join(t.dir, 'plan.json'), ...walk(stateDir)].filter(
      // A replica's log is the app's own output, written by the app (docs/secrets.md).
      (f) => statSync(f).isFile() && !/\/logs?\//.test(f) && !f.endsWith('.log'),
    );
    expect(files.some((f) => f.endsWith('state.json'))).toBe(true);
    expect(files.some((f) => /backup|\.bak/.test(f))).toBe(true);
    expect(files.filter((f) => readFileSync(f, 'utf8').includes(CANARY))).toEqual([]);
  });

  it('never appears in a webhook body', () => {
    expect(bodies.some((b) => b.includes('"step.failed"'))).toBe(true);
    expect(bodies.filter((b) => b.includes(CANARY))).toEqual([]);
  });
});
