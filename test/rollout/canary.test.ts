/**
 * Rollouts end to end on real processes: examples/app revisions behind the real router, real
 * traffic, analyses reading the router's real metrics (and, at the end, a real Prometheus).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnBp, collect } from '../helpers/cli.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { Canary, generateTraffic, sample } from './canary-fixture.js';

let c: Canary;
const V1 = { id: 'web-v1', version: 'v1' };
const gate = (min: number, interval = '2s', count = 2) =>
  `{ analysis: { metric: success_rate, min: ${min}, interval: ${interval}, count: ${count} } }`;

beforeEach(async () => {
  c = new Canary();
  const first = await c.setup({ revisions: [V1], traffic: [['web-v1', 10000]] });
  // Both streams in the message: the human view reports step failures on stdout.
  expect(first.code, `${first.stderr}\n${first.stdout}`).toBe(0);
}, 60_000);
afterEach(async () => {
  await c.cleanup();
}, 60_000);

const status = async () => JSON.parse((await c.run(['rollout', 'status', 'demo', '--json'])).stdout).rollouts[0];

describe('canary rollouts on local processes', () => {
  it('a healthy canary passes its analyses and reaches 100% with nothing dropped', async () => {
    c.write({
      revisions: [
        { ...V1, state: 'inactive' },
        { id: 'web-v2', version: 'v2' },
      ],
      traffic: [['web-v2', 10000]],
      steps: ['weight_bps: 2000', gate(0.99), 'weight_bps: 5000', gate(0.99)],
    });
    const traffic = generateTraffic(c.listen);
    const out = await c.run(['apply', c.file, '--auto-approve']);
    const stats = await traffic.stop();
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toMatch(/web-v1 80% \/ web-v2 20%/);
    expect(out.stdout).toMatch(/measured success_rate 1/);
    expect(stats.dropped).toBe(0);
    expect([...stats.statuses.keys()]).toEqual([200]);
    expect(stats.ok.get('v2')).toBeGreaterThan(0);
    expect(await sample(c.listen, 20)).toEqual({ v2: 20 });
    expect(await status()).toMatchObject({ status: 'completed', canary: 'web-v2' });
  }, 120_000);

  it('a failing canary is rolled back at its first failed measurement, nothing dropped, and a webhook says why', async () => {
    const hits: Array<{ event: string; message: string }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const b = JSON.parse(body);
        hits.push({ event: b.event, message: b.message });
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      c.write({
        revisions: [
          { ...V1, state: 'inactive' },
          { id: 'web-v2', version: 'v2', errorRate: 0.5 },
        ],
        traffic: [['web-v2', 10000]],
        steps: ['weight_bps: 3000', gate(0.95, '3s', 3), 'weight_bps: 6000'],
        hooks: [`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`],
      });
      const traffic = generateTraffic(c.listen);
      const started = Date.now();
      const out = await c.run(['apply', c.file, '--auto-approve']);
      const took = Date.now() - started;
      const stats = await traffic.stop();
      expect(out.code, out.stdout + out.stderr).toBe(1);
      expect(out.stdout).toMatch(/rolled back web-v2/);
      expect(out.stdout).toMatch(/success_rate 0\.\d+ < min 0\.95/);
      // Rolled back at the first failing window: one interval, not three.
      const s = await status();
      expect(s).toMatchObject({ status: 'rolled_back' });
      expect(s.measurements).toHaveLength(1);
      expect(took).toBeLessThan(20_000);
      expect(stats.dropped).toBe(0);
      expect([...stats.statuses.keys()].sort()).toEqual([200, 500]); // the app's own 500s, never the router's 502
      expect(await sample(c.listen, 20)).toEqual({ v1: 20 });
      expect(hits.find((h) => h.event === 'rollout.rolled_back')?.message).toMatch(/success_rate/);
      // The file still asks for v2: the next plan diverges and changes nothing.
      const plan = await c.run(['plan', c.file, '--json']);
      expect(JSON.parse(plan.stdout)).toMatchObject({
        changes: false,
        rollouts: [{ diverged: true, status: 'rolled_back' }],
      });
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  }, 120_000);

  it('pauses across invocations: promote goes on, abort returns to the stable split', async () => {
    c.write({
      revisions: [
        { ...V1, state: 'inactive' },
        { id: 'web-v2', version: 'v2' },
      ],
      traffic: [['web-v2', 10000]],
      steps: ['weight_bps: 2000', 'pause: {}', 'weight_bps: 5000', 'pause: {}'],
    });
    const held = await c.run(['apply', c.file, '--auto-approve']);
    expect(held.code, held.stderr).toBe(4); // held at a pause: its own exit code
    const waiting = await c.run(['plan', c.file, '--detailed-exitcode', '--json']);
    expect(waiting.code).toBe(4); // only the waiting rollout is left
    expect(JSON.parse(waiting.stdout).rollouts[0]).toMatchObject({ status: 'paused', waiting: true });
    expect(held.stdout).toMatch(/Apply paused/);
    const spread = await sample(c.listen, 50);
    expect(spread.v2).toBe(10); // smooth weighted round robin: exactly 20% of 50
    expect((await c.run(['rollout', 'status', 'demo'])).stdout).toMatch(/paused, step 2 of 4: pause until promoted/);

    const promoted = await c.run(['rollout', 'promote', 'demo', 'web']);
    expect(promoted.code, promoted.stderr).toBe(4); // on to the next pause, held there
    expect(await sample(c.listen, 20)).toEqual({ v1: 10, v2: 10 });

    const aborted = await c.run(['rollout', 'abort', 'demo', 'web']);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(await sample(c.listen, 20)).toEqual({ v1: 20 });
    const state = JSON.parse((await c.run(['state', 'show', 'demo', '--json'])).stdout);
    expect(state.revisions['web-v2'].lifecycle).toBe('inactive');
    expect((await c.run(['plan', c.file])).stdout).toMatch(/Rollout web\/web-v2 aborted/);
  }, 120_000);

  it('survives kill -9 of bp in a pause; the next apply continues from the recorded step', async () => {
    c.write({
      revisions: [
        { ...V1, state: 'inactive' },
        { id: 'web-v2', version: 'v2' },
      ],
      traffic: [['web-v2', 10000]],
      steps: ['weight_bps: 1000', 'pause: 4s', 'weight_bps: 5000'],
    });
    const child = spawnBp(['apply', c.file, '--auto-approve', '--wait', '1m'], {
      cwd: c.t.dir,
      env: { BP_STATE_DIR: `${c.t.dir}/.bp` },
    });
    const done = collect(child);
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d) => {
        seen += d;
        if (/paused at step 2\/3/.test(seen)) resolve();
      });
    });
    child.kill('SIGKILL');
    await done;
    expect(await sample(c.listen, 20)).toEqual({ v1: 18, v2: 2 });
    const again = await c.run(['apply', c.file, '--auto-approve', '--wait', '1m', '--lock-timeout', '10s']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/web-v1 90% \/ web-v2 10%/); // did not start over
    expect(await sample(c.listen, 20)).toEqual({ v2: 20 });
  }, 120_000);

  it('gates on a real Prometheus server scraping the router', async () => {
    const prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${c.metricsPort}`] });
    try {
      c.write({
        revisions: [
          { ...V1, state: 'inactive' },
          { id: 'web-v2', version: 'v2' },
        ],
        traffic: [['web-v2', 10000]],
        steps: [
          'weight_bps: 3000',
          `{ analysis: { metric: success_rate, min: 0.99, interval: 4s, count: 2, provider: prometheus, address: "${prom.url}" } }`,
          `{ analysis: { metric: latency_p99_ms, max: 2000, interval: 4s, count: 1, provider: prometheus, address: "${prom.url}" } }`,
        ],
      });
      const traffic = generateTraffic(c.listen);
      const out = await c.run(['apply', c.file, '--auto-approve']);
      await traffic.stop();
      expect(out.code, out.stdout + out.stderr + prom.log()).toBe(0);
      const s = await status();
      expect(s.status).toBe('completed');
      expect(out.stdout).toMatch(/measured success_rate 1/);
      expect(out.stdout).toMatch(/measured latency_p99_ms \d/);
    } finally {
      await prom.stop();
    }
  }, 180_000);
});
