import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis } from '../../../src/model/environment.js';
import { BpError } from '../../../src/model/errors.js';
import { type MeasureTarget, openWindow } from '../../../src/rollout/analysis/index.js';
import { type RunningPrometheus, startPrometheus } from '../../helpers/prometheus.js';
import { freePort, type RunningRouter, startBackend, startRouter, type TestBackend } from '../../router/support.js';
import { canaryBackend, split, stableBackend, traffic } from './support.js';

const signal = new AbortController().signal;
let stable: TestBackend;
let canary: TestBackend;
let router: RunningRouter;
let prom: RunningPrometheus;

const analysis = (over: Partial<Analysis>): Analysis => ({
  metric: 'success_rate',
  interval: '6s',
  count: 1,
  provider: 'prometheus',
  address: prom.url,
  ...over,
});
const target = (revisionId: string): MeasureTarget => ({
  environmentId: 'demo',
  deploymentId: 'web',
  revisionId,
  scrape: null,
});

beforeAll(async () => {
  stable = await stableBackend();
  canary = await canaryBackend(5, 30); // 20% of the canary's answers are 500, each takes 30 ms
  const metricsPort = await freePort();
  router = await startRouter(split(stable, canary, 5000), 200, { metricsListen: `127.0.0.1:${metricsPort}` });
  prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${metricsPort}`] });
});

afterAll(async () => {
  await prom?.stop();
  await router?.stop();
  await Promise.all([stable?.close(), canary?.close()]);
});

describe('analysis with provider prometheus (a real Prometheus scraping a real router)', () => {
  it('measures success_rate and latency_p99_ms of the canary with the default queries', async () => {
    const rate = await openWindow(analysis({ min: 0.99 }), target('web-v2'), signal);
    const p99 = await openWindow(analysis({ metric: 'latency_p99_ms', max: 20 }), target('web-v2'), signal);
    const stableRate = await openWindow(analysis({ min: 0.99 }), target('web-v1'), signal);
    // About 5 s of steady traffic: 200 requests, 100 to the canary, 20 of them 500s.
    const codes = await traffic(router.url, 200, { concurrency: 4, spreadMs: 5000 });
    expect(codes.filter((c) => c === 500)).toHaveLength(20);
    await new Promise((r) => setTimeout(r, 2500)); // two more scrapes, so the last requests are in the TSDB

    const m = await rate.finish(signal);
    expect(m.verdict).toBe('fail');
    // increase() extrapolates both sides of the ratio alike; the exact share is 0.8.
    expect(m.value).toBeGreaterThan(0.74);
    expect(m.value).toBeLessThan(0.86);
    expect(m.detail).toMatch(
      new RegExp(`^success_rate 0\\.[0-9]+ < min 0\\.99 over [0-9]+s \\(Prometheus at ${prom.url}\\)$`),
    );

    const l = await p99.finish(signal);
    expect(l.verdict).toBe('fail');
    expect(l.value).toBeGreaterThan(25); // every canary answer took >= 30 ms
    expect(l.value).toBeLessThan(1000);

    const s = await stableRate.finish(signal);
    expect(s).toMatchObject({ value: 1, verdict: 'pass' });
  });

  it('runs a custom query with the placeholders filled in', async () => {
    const w = await openWindow(
      analysis({
        metric: 'canary_weight',
        min: 5000,
        max: 5000,
        query:
          'sum(max_over_time(bp_router_weight_bps{deployment_id="{{deployment_id}}",revision_id="{{revision_id}}"}[{{interval}}]))',
      }),
      target('web-v2'),
      signal,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const m = await w.finish(signal);
    expect(m).toMatchObject({ value: 5000, verdict: 'pass' });
  });

  it('accepts a scalar result', async () => {
    const w = await openWindow(
      analysis({
        metric: 'total_weight',
        min: 10000,
        query: 'scalar(sum(bp_router_weight_bps{deployment_id="{{deployment_id}}"}))',
      }),
      target('web-v2'),
      signal,
    );
    expect(await w.finish(signal)).toMatchObject({ value: 10000, verdict: 'pass' });
  });

  it('is inconclusive when the query finds no data', async () => {
    const w = await openWindow(analysis({ min: 0.99 }), target('web-v9'), signal);
    const m = await w.finish(signal);
    expect(m).toMatchObject({ value: null, verdict: 'inconclusive' });
    expect(m.detail).toContain('the query returned no data for revision "web-v9"');
  });

  it('refuses a query that returns more than one series', async () => {
    const w = await openWindow(
      analysis({ metric: 'x', min: 0, query: 'bp_router_weight_bps{deployment_id="{{deployment_id}}"}' }),
      target('web-v2'),
      signal,
    );
    const e = await w.finish(signal).catch((x: unknown) => x);
    expect(BpError.is(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /returned 2 series \(bp_router_weight_bps\{.*\}\); an analysis needs one number, e\.g\. aggregate it with sum/,
    );
  });

  it("reports a bad query with Prometheus' own message, not retryable", async () => {
    const w = await openWindow(
      analysis({ metric: 'x', min: 0, query: 'sum(bp_router_weight_bps' }),
      target('web-v2'),
      signal,
    );
    const e = (await w.finish(signal).catch((x: unknown) => x)) as BpError;
    expect(BpError.is(e)).toBe(true);
    expect(e.code).toBe('Provider');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(`Prometheus at ${prom.url} refused the query`);
    expect(e.message).toMatch(/bad_data: .*parse error/);
  });

  it('reports an unreachable server as a retryable provider error naming the address', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    const w = await openWindow(analysis({ address }), target('web-v2'), signal);
    const e = (await w.finish(signal).catch((x: unknown) => x)) as BpError;
    expect(e.code).toBe('Provider');
    expect(e.retryable).toBe(true);
    expect(e.message).toBe(`Prometheus at ${address} is unreachable: ECONNREFUSED`);
  });

  it('treats a server that answers 503 as retryable, with its own message', async () => {
    const busy = await startBackend((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'TSDB not ready' }));
    });
    try {
      const w = await openWindow(analysis({ address: busy.url }), target('web-v2'), signal);
      const e = (await w.finish(signal).catch((x: unknown) => x)) as BpError;
      expect(e).toMatchObject({ code: 'Provider', retryable: true });
      expect(e.message).toMatch(
        new RegExp(`^Prometheus at ${busy.url} refused the query ".*": unavailable: TSDB not ready$`),
      );
    } finally {
      await busy.close();
    }
  });

  it('refuses an analysis without an address, or with an unknown metric and no query, before waiting', async () => {
    await expect(openWindow(analysis({ address: undefined }), target('web-v2'), signal)).rejects.toThrow(
      /gives no address/,
    );
    await expect(openWindow(analysis({ metric: 'cpu', max: 1 }), target('web-v2'), signal)).rejects.toThrow(
      /"cpu" is not built in.*give it a query/,
    );
  });
});
