/**
 * A real apply with the local-process deployer (real app processes, the real router) and a
 * webhook receiver, then: every file bp wrote is 0600 in a 0700 directory, and the value of a
 * `${env:...}` secret appears in no file bp wrote (state, journal, plan file, runtime config,
 * deployer records, logs), in no webhook body, and in no output of any command.
 */
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bp, ROOT, tempDir, writeFile, type RunResult } from '../helpers/cli.js';
import { freePort } from '../deployers/local-process-fixtures.js';

const SECRET = 'sup3r-s3cret-Value-7f1e';
const HOOK_SECRET = 'hook-s3cret-Value-91ab';
const t = tempDir('bp-sec-files-');
const stateDir = join(t.dir, 'state');
const outputs: RunResult[] = [];
const bodies: Array<{ body: string; signature: string | undefined }> = [];
let receiver: http.Server;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [join(dir, e.name), ...walk(join(dir, e.name))] : [join(dir, e.name)],
  );
}

const run = async (args: string[]): Promise<RunResult> => {
  const r = await bp([...args, '--state-dir', stateDir], { cwd: t.dir, env: { WEB_TOKEN: SECRET, HOOK_SECRET } });
  outputs.push(r);
  return r;
};

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push({ body, signature: req.headers['x-bp-signature'] as string | undefined });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = await freePort();
  writeFile(
    join(t.dir, 'env.yaml'),
    [
      'schema: bp.environment/v1',
      'environment_id: secure',
      'deployers:',
      '  local: { type: local-process, config: {} }',
      'notifications:',
      `  - { url: "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook", events: ["apply.started", "apply.finished", "step.failed"], secret: "\${env:HOOK_SECRET}" }`,
      'deployments:',
      '  - deployment_id: web',
      '    deployer: local',
      `    listen: 127.0.0.1:${port}`,
      '    revisions:',
      '      - revision_id: web-v1',
      `        artifact: { command: [node, ${JSON.stringify(join(ROOT, 'examples/app/server.mjs'))}], env: { VERSION: v1, TOKEN: "\${env:WEB_TOKEN}", MIXED: "Bearer \${env:WEB_TOKEN}" } }`,
      '        health: { http_path: /healthz, timeout_seconds: 20 }',
      '        drain_seconds: 0',
      '    traffic:',
      '      - { revision_id: web-v1, weight_bps: 10000 }',
      '',
    ].join('\n'),
  );
  expect((await run(['plan', 'env.yaml', '--out', 'plan.json'])).code).toBe(0);
  const applied = await run(['apply', 'plan.json']);
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  // The app really got the secret (so the test would notice if it were written anywhere).
  const state = JSON.parse((await run(['state', 'show', 'secure', '--json'])).stdout);
  expect(state.revisions['web-v1'].lifecycle).toBe('ready');
  await run(['runtime-config', 'secure']);
  const res = await fetch(`http://127.0.0.1:${port}/`);
  expect(await res.text()).toMatch(/from v1/);
}, 120_000);

afterAll(async () => {
  const destroyed = await run(['destroy', 'env.yaml', '--auto-approve']);
  receiver.close();
  t.cleanup();
  expect(destroyed.code, destroyed.stdout + destroyed.stderr).toBe(0);
}, 120_000);

describe('files bp writes', () => {
  it('every file under the state directory is 0600 and every directory 0700', () => {
    const entries = walk(stateDir);
    expect(entries.length).toBeGreaterThan(3);
    const wrong = entries
      .map((p) => ({ p, st: statSync(p) }))
      .filter(({ st }) => (st.mode & 0o777) !== (st.isDirectory() ? 0o700 : 0o600))
      .map(({ p, st }) => `${p.slice(stateDir.length)} ${(st.mode & 0o777).toString(8)}`);
    expect(wrong).toEqual([]);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
  });

  it('the saved plan file is 0600', () => {
    expect(statSync(join(t.dir, 'plan.json')).mode & 0o777).toBe(0o600);
  });
});

describe('${env:...} secrets', () => {
  it('appear in no file bp wrote: state, journal, plan, runtime config, deployer records, logs', () => {
    const files = [join(t.dir, 'plan.json'), ...walk(stateDir).filter((p) => statSync(p).isFile())];
    expect(files.some((f) => f.endsWith('journal.ndjson') || f.endsWith('state.json'))).toBe(true);
    expect(files.some((f) => /runtime/.test(f))).toBe(true);
    const leaking = files.filter((f) => readFileSync(f).includes(SECRET) || readFileSync(f).includes(HOOK_SECRET));
    expect(leaking).toEqual([]);
    // The reference itself is what gets recorded.
    expect(readFileSync(join(t.dir, 'plan.json'), 'utf8')).toContain('${env:WEB_TOKEN}');
  });

  it('appear in no output of any command', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    for (const r of outputs) {
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.stdout + r.stderr).not.toContain(HOOK_SECRET);
    }
  });

  it('appear in no webhook body, and each delivered body is signed with the webhook secret', () => {
    expect(bodies.length).toBeGreaterThan(0);
    for (const b of bodies) {
      expect(b.body).not.toContain(SECRET);
      expect(b.body).not.toContain(HOOK_SECRET);
      expect(b.signature).toBe(`sha256=${createHmac('sha256', HOOK_SECRET).update(b.body).digest('hex')}`);
    }
  });
});
