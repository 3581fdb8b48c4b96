/**
 * The ssh deployer reports live progress against a real OpenSSH server: while warming,
 * replicas answering the health check (counting to n/n, with what the last probe saw); while
 * draining, the requests still in flight through the host's router and the time left.
 */
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployment, environment, opts, revision } from './local-process-fixtures.js';
import { useLab } from './ssh/fixtures.js';
import { freePort } from './ssh/sshd.js';
import { expectCountsReach, expectTimeLeft, progressRecorder } from './progress-fixtures.js';

// Starts its answer at once and ends it `ms` later: a request the test can see in flight (its
// first bytes came through the router) before the drain begins, without sleeping.
const HOLD_APP = `import http from 'node:http';
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/healthz') return res.end('ok');
  res.writeHead(200);
  res.write('started\\n');
  setTimeout(() => res.end('done'), Number(url.searchParams.get('ms') ?? 1000));
}).listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
`;

/** Resolves when the response starts (the request is in flight); `done` when it ends. */
function heldRequest(url: string): Promise<{ done: Promise<number> }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        resolve({ done: new Promise((r) => res.on('end', () => r(res.statusCode ?? 0)).resume()) });
      })
      .on('error', reject);
  });
}

const lab = useLab(1);

describe('ssh live progress', () => {
  it('warming counts replicas answering /healthz to 2/2; draining reports requests in flight and time left', async () => {
    const d = await lab().deployer();
    const base = mkdtempSync(join(lab().scratch, 'hold-'));
    mkdirSync(join(base, 'app'));
    writeFileSync(join(base, 'app/hold.mjs'), HOLD_APP);
    const port = await freePort();
    const v1 = revision('hold-v1', {
      artifact: { command: ['node', 'app/hold.mjs'], env: {} },
      resources: { cpu: 0.25, memory_mb: 128, replicas: 2, gpu: 0 },
      drain_seconds: 20,
    });
    const env = environment(
      [deployment('web', `127.0.0.1:${port}`, [v1], [{ revision_id: 'hold-v1', weight_bps: 10000 }])],
      base,
    );
    await d.stageRevision(env, 'hold-v1', opts());
    const p = progressRecorder();
    await d.warmRevision(env, 'hold-v1', p.opts());
    expectCountsReach(p.seen, 2, 'replicas healthy');
    expect(p.seen[0].waiting_for).toBe('replicas of "hold-v1" on 1 host to answer /healthz');

    await d.applyTrafficSplit(env, 'web', opts());
    const held = await Promise.all([1, 2].map(() => heldRequest(`http://127.0.0.2:${port}/?ms=3000`)));
    p.clear();
    await d.drainRevision(env, 'hold-v1', p.opts());
    expect(await Promise.all(held.map((h) => h.done))).toEqual([200, 200]);
    const where = `on root@127.0.0.1:${lab().sshds[0].port}`;
    expectTimeLeft(p.seen, `requests in flight to "hold-v1" ${where} to finish`, 20);
    expect(p.seen[0].status).toMatch(/^2 in flight, \d+s left$/);
    // bp releases the routing right before archiving the last revision (docs/design.md#traffic-rules).
    await d.releaseRouting!(env, 'web', opts());
    await d.archiveRevision(env, 'hold-v1', opts());
  });
});
