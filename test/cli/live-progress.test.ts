/**
 * `bp apply` on a real terminal (a pseudo-terminal from util-linux `script`) with real
 * local-process replicas: the live region says what warm waits for (1/2 replicas healthy,
 * the last probe's error), is redrawn in place, and leaves every step's result on screen.
 * Without a terminal the same apply prints plain lines only.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BP, bp, collect, spawnBp, tempDir, writeFile } from '../helpers/cli.js';
import { screenOf } from '../helpers/screen.js';

let t: ReturnType<typeof tempDir>;

// The first replica to start serves at once; the others wait until the test creates `go`.
const SERVER = `
import { createServer } from 'node:http';
import { existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.env.DIR;
let first = false;
try { openSync(join(dir, 'first'), 'wx'); first = true; } catch {}
const serve = () => createServer((_q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
if (first) serve();
else { const t = setInterval(() => { if (existsSync(join(dir, 'go'))) { clearInterval(t); serve(); } }, 20); }
`;

function envYaml(dir: string, port: number): string {
  return [
    'schema: bp.environment/v1',
    'environment_id: live',
    'deployers:',
    '  local: { type: local-process }',
    'deployments:',
    '  - deployment_id: web',
    '    deployer: local',
    `    listen: 127.0.0.1:${port}`,
    '    revisions:',
    '      - revision_id: web-v1',
    `        artifact: { command: [node, server.mjs], env: { DIR: ${JSON.stringify(dir)} } }`,
    '        resources: { replicas: 2 }',
    '        health: { http_path: /healthz, timeout_seconds: 60 }',
    '        drain_seconds: 0',
    '    traffic: [{ revision_id: web-v1, weight_bps: 10000 }]',
    '',
  ].join('\n');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeEach(async () => {
  t = tempDir();
  writeFile(join(t.dir, 'server.mjs'), SERVER);
  writeFile(join(t.dir, 'env.yaml'), envYaml(t.dir, await freePort()));
});
afterEach(async () => {
  writeFileSync(join(t.dir, 'go'), '');
  await bp(['destroy', 'env.yaml', '--auto-approve'], { cwd: t.dir });
  t.cleanup();
});

/** Runs bp under a pty; `until` sees the output so far and may act (release the replica). */
function onTerminal(args: string[], until: (out: string) => void): Promise<{ code: number | null; out: string }> {
  const cmd = [process.execPath, BP, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qefc', `stty cols 160 rows 40; ${cmd}`, '/dev/null'], {
    cwd: t.dir,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, TERM: 'xterm', BP_LIVE_INTERVAL_MS: '50' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    until(out);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('live progress', () => {
  it('on a terminal: one region redrawn with what warm waits for, then every result on the final screen', async () => {
    const r = await onTerminal(['apply', 'env.yaml', '--auto-approve'], (out) => {
      // Condition, not a sleep: the second replica is released once the region has said it waits for it.
      if (/1\/2 replicas healthy, last probe [^\n]*ECONNREFUSED/.test(out) && !existsSync(join(t.dir, 'go')))
        writeFileSync(join(t.dir, 'go'), '');
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(
      /web\/web-v1: warming [\d.]+m?s · 1\/2 replicas healthy, last probe [^\n]*ECONNREFUSED[^\n]* · waiting for replicas of "web-v1" to answer \/healthz/,
    );
    // Redrawn in place: frames erase the lines of the frame before.
    expect(r.out.split('\u001b[2K').length).toBeGreaterThan(3);
    const screen = screenOf(r.out);
    expect(screen.filter((l) => l.includes('Running'))).toEqual([]);
    const results = screen.filter((l) => /^web(\/web-v1)?: /.test(l));
    expect(results).toEqual([
      expect.stringMatching(/^web\/web-v1: staged after /),
      expect.stringMatching(/^web\/web-v1: ready after /),
      expect.stringMatching(/^web: split applied after /),
    ]);
    expect(screen.at(-1)).toBe('Apply complete: 3 succeeded, 0 failed, 0 skipped.');
    // Each result is on screen once: the region was not scrolled into the scrollback.
    expect(screen.filter((l) => l.includes('warming')).length).toBe(0);
  });

  it('without a terminal: plain lines, no escape sequences, what warm waits for on the periodic line', async () => {
    const child = spawnBp(['apply', 'env.yaml', '--auto-approve'], {
      cwd: t.dir,
      env: { BP_PROGRESS_INTERVAL_MS: '50' },
    });
    let seen = '';
    child.stdout!.on('data', (d) => {
      seen += d;
      if (/still warming \(waiting for .*1\/2 replicas healthy/.test(seen) && !existsSync(join(t.dir, 'go')))
        writeFileSync(join(t.dir, 'go'), '');
    });
    const r = await collect(child);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toMatch(
      /web\/web-v1: still warming \(waiting for replicas of "web-v1" to answer \/healthz: 1\/2 replicas healthy, last probe [^\n]*ECONNREFUSED[^\n]*\) \[[\d.]+m?s elapsed\]\n/,
    );
    expect(r.stdout).toContain('web/web-v1: warming...\n');
    expect(r.stdout).toMatch(/Apply complete: 3 succeeded, 0 failed, 0 skipped\.\n$/);
  });
});
