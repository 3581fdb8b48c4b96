import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis } from '../../../src/model/environment.js';
import { BpError } from '../../../src/model/errors.js';
import { type MeasureTarget, openWindow } from '../../../src/rollout/analysis/index.js';
import { freePort, type RunningRouter, startRouter, type TestBackend } from '../../router/support.js';
import { canaryBackend, scrapeUrl, split, stableBackend, traffic } from './support.js';

const signal = new AbortController().signal;
const routers: RunningRouter[] = [];
let stable: TestBackend;
let canary: TestBackend;

const analysis = (over: Partial<Analysis>): Analysis => ({
  metric: 'success_rate',
  interval: '2s',
  count: 1,
  provider: 'router',
  ...over,
});

function target(revisionId: string, metricsUrl: () => string): MeasureTarget {
  return { environmentId: 'demo', deploymentId: 'web', revisionId, scrape: (s) => scrapeUrl(metricsUrl(), s) };
}

async function router(metricsListen?: string): Promise<RunningRouter> {
  const r = await startRouter(split(stable, canary, 5000), 200, { metricsListen });
  routers.push(r);
  return r;
}

beforeAll(async () => {
  stable = await stableBackend();
  canary = await canaryBackend(5, 30); // 20% of the canary's answers are 500, each takes 30 ms
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.stop()));
  await Promise.all([stable.close(), canary.close()]);
});

describe('analysis with provider router (real router, real backends)', () => {
  it('measures the success rate of the canary over the window only, and fails it against min 0.99', async () => {
    const r = await router();
    await traffic(r.url, 20); // before the window: 10 canary requests, 2 failed; must not count
    const w = await openWindow(
      analysis({ min: 0.99 }),
      target('web-v2', () => r.metricsUrl),
      signal,
    );
    const sent = await traffic(r.url, 100); // 50 reach the canary, 10 of them fail
    expect(sent.filter((c) => c === 500)).toHaveLength(10);
    const m = await w.finish(signal);
    expect(m.value).toBe(0.8);
    expect(m.verdict).toBe('fail');
    expect(m.detail).toMatch(/^success_rate 0\.8 < min 0\.99 over [0-9]+s \(40 of 50 requests succeeded\)$/);
    expect(Date.parse(m.at)).toBeGreaterThan(Date.now() - 60_000);

    const good = await openWindow(
      analysis({ min: 0.99 }),
      target('web-v1', () => r.metricsUrl),
      signal,
    );
    await traffic(r.url, 40);
    const stableM = await good.finish(signal);
    expect(stableM).toMatchObject({ value: 1, verdict: 'pass' });
    expect(stableM.detail).toMatch(/^success_rate 1 >= min 0\.99 over [0-9]+s \(20 of 20 requests succeeded\)$/);
  });

  it('measures a plausible p99 latency from the histogram: the canary sleeps 30 ms, the stable revision not at all', async () => {
    const r = await router();
    const canaryW = await openWindow(
      analysis({ metric: 'latency_p99_ms', max: 20 }),
      target('web-v2', () => r.metricsUrl),
      signal,
    );
    const stableW = await openWindow(
      analysis({ metric: 'latency_p99_ms', max: 1000 }),
      target('web-v1', () => r.metricsUrl),
      signal,
    );
    await traffic(r.url, 100);
    const [c, s] = [await canaryW.finish(signal), await stableW.finish(signal)];
    // Every canary answer took >= 30 ms, so its p99 lies in a bucket above 25 ms.
    expect(c.value).toBeGreaterThan(25);
    expect(c.value).toBeLessThan(1000);
    expect(c.verdict).toBe('fail');
    expect(c.detail).toMatch(/^latency_p99_ms [0-9.]+ > max 20 over [0-9]+s \(from 50 requests\)$/);
    expect(s.value).toBeGreaterThan(0);
    expect(s.value).toBeLessThan(c.value as number);
    expect(s.verdict).toBe('pass');
  });

  it('is inconclusive when no request reached the revision', async () => {
    const r = await router();
    const w = await openWindow(
      analysis({ min: 0.99 }),
      target('web-v2', () => r.metricsUrl),
      signal,
    );
    const m = await w.finish(signal);
    expect(m).toMatchObject({ value: null, verdict: 'inconclusive' });
    expect(m.detail).toMatch(/^success_rate: no request reached revision "web-v2" over [0-9]+s; inconclusive$/);
  });

  it('copes with a router restart inside the window: the counters after the reset are the increase', async () => {
    const port = await freePort();
    const first = await router(`127.0.0.1:${port}`);
    await traffic(first.url, 200); // 100 canary requests on the first router's counters
    const url = `http://127.0.0.1:${port}/metrics`;
    const w = await openWindow(
      analysis({ min: 0.5 }),
      target('web-v2', () => url),
      signal,
    );
    await first.stop();
    const second = await router(`127.0.0.1:${port}`);
    await traffic(second.url, 20); // 10 canary requests, 2 of them fail (the canary counts across routers)
    const m = await w.finish(signal);
    expect(m.value).toBe(0.8);
    expect(m.detail).toContain('(8 of 10 requests succeeded)');
  });

  it('refuses a deployer without router metrics, and a metric it cannot compute, before waiting', async () => {
    const none: MeasureTarget = { environmentId: 'demo', deploymentId: 'web', revisionId: 'web-v2', scrape: null };
    const e = await openWindow(analysis({ min: 0.99 }), none, signal).catch((x: unknown) => x);
    expect(BpError.is(e)).toBe(true);
    expect((e as Error).message).toMatch(/deployment "web" has no router metrics.*use provider: prometheus/);
    const r = routers[0];
    await expect(
      openWindow(
        analysis({ metric: 'cpu', max: 1 }),
        target('web-v2', () => r.metricsUrl),
        signal,
      ),
    ).rejects.toThrow(/metric "cpu" is not built in/);
  });

  it('reports garbage from the scrape as a provider error naming the deployment', async () => {
    const bad: MeasureTarget = {
      environmentId: 'demo',
      deploymentId: 'web',
      revisionId: 'web-v2',
      scrape: async () => '<html>oops</html>',
    };
    await expect(openWindow(analysis({ min: 0.9 }), bad, signal)).rejects.toThrow(
      /router metrics of deployment "web" are not Prometheus text format/,
    );
  });
});
