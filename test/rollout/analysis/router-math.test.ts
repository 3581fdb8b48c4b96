import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../src/rollout/analysis/exposition.js';
import {
  bucketsByBound,
  DURATION_BUCKET,
  histogramQuantile,
  increases,
  latencyP99Ms,
  REQUESTS,
  successRate,
} from '../../../src/rollout/analysis/router-math.js';
import { RouterMetrics } from '../../../src/router/metrics.js';

const sel = { deploymentId: 'web', revisionId: 'v2' };

function requests(counts: Record<string, number>, extra = ''): string {
  return Object.entries(counts)
    .map(
      ([cls, n]) => `bp_router_requests_total{deployment_id="web",revision_id="v2",code_class="${cls}"${extra}} ${n}`,
    )
    .join('\n');
}

describe('increases and success rate', () => {
  it('is the share of non-5xx responses between two scrapes, ignoring other revisions and deployments', () => {
    const before = parseExposition(
      requests({ '2xx': 100, '4xx': 5, '5xx': 10 }) +
        '\nbp_router_requests_total{deployment_id="web",revision_id="v1",code_class="5xx"} 0',
    );
    const after = parseExposition(
      requests({ '2xx': 130, '4xx': 6, '5xx': 23 }) +
        '\nbp_router_requests_total{deployment_id="web",revision_id="v1",code_class="5xx"} 999' +
        '\nbp_router_requests_total{deployment_id="api",revision_id="v2",code_class="5xx"} 999',
    );
    const r = successRate(increases(before, after, REQUESTS, sel));
    expect(r).toEqual({ value: 31 / 44, ok: 31, total: 44 });
  });

  it('treats a counter that went down as reset: the later value is the increase', () => {
    const before = parseExposition(requests({ '2xx': 500, '5xx': 50 }));
    const after = parseExposition(requests({ '2xx': 8, '5xx': 2 }));
    expect(successRate(increases(before, after, REQUESTS, sel))).toEqual({ value: 0.8, ok: 8, total: 10 });
  });

  it('counts a series that appeared during the window from zero, and sums across hosts', () => {
    const before = parseExposition(requests({ '2xx': 10 }, ',host="a"'));
    const after = parseExposition(
      `${requests({ '2xx': 20 }, ',host="a"')}\n${requests({ '2xx': 5, '5xx': 5 }, ',host="b"')}`,
    );
    expect(successRate(increases(before, after, REQUESTS, sel))).toEqual({ value: 15 / 20, ok: 15, total: 20 });
  });

  it('is null without requests', () => {
    const text = requests({ '2xx': 7, '5xx': 1 });
    expect(successRate(increases(parseExposition(text), parseExposition(text), REQUESTS, sel)).value).toBeNull();
    expect(successRate(increases([], [], REQUESTS, sel)).value).toBeNull();
  });
});

describe('histogramQuantile (Prometheus semantics)', () => {
  const b = (pairs: [number, number][]) => pairs.map(([le, count]) => ({ le, count }));

  it('interpolates linearly inside the bucket holding the rank', () => {
    // 100 observations: 50 in (0, 0.1], 40 in (0.1, 0.2], 10 in (0.2, 0.4].
    const h = b([
      [0.1, 50],
      [0.2, 90],
      [0.4, 100],
      [Infinity, 100],
    ]);
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.1, 10);
    expect(histogramQuantile(0.25, h)).toBeCloseTo(0.05, 10);
    expect(histogramQuantile(0.7, h)).toBeCloseTo(0.15, 10);
    expect(histogramQuantile(0.99, h)).toBeCloseTo(0.2 + 0.2 * 0.9, 10);
  });

  it('answers the highest finite bound when the rank falls in +Inf, null without data or without +Inf', () => {
    expect(
      histogramQuantile(
        0.99,
        b([
          [0.1, 1],
          [1, 2],
          [Infinity, 100],
        ]),
      ),
    ).toBe(1);
    expect(
      histogramQuantile(
        0.99,
        b([
          [0.1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNull();
    expect(
      histogramQuantile(
        0.99,
        b([
          [0.1, 5],
          [1, 5],
        ]),
      ),
    ).toBeNull();
    expect(histogramQuantile(0.99, b([[Infinity, 5]]))).toBeNull();
  });

  it('repairs non-monotonic cumulative counts', () => {
    expect(
      histogramQuantile(
        0.5,
        b([
          [0.1, 10],
          [0.2, 8],
          [Infinity, 10],
        ]),
      ),
    ).toBeCloseTo(0.05, 10);
  });

  it('computes p99 in ms from the router histogram deltas, summing hosts by le', () => {
    const m = new RouterMetrics('web');
    const r = m.forRevision('v2');
    for (let i = 0; i < 99; i++) r.observe(200, 0.03); // (0.025, 0.05]
    r.observe(200, 0.3); // (0.25, 0.5]
    const after = parseExposition(m.render([{ revision_id: 'v2', weight_bps: 10000 }]));
    const deltas = increases([], after, DURATION_BUCKET, sel);
    expect(bucketsByBound(deltas).at(-1)).toEqual({ le: Infinity, count: 100 });
    const p99 = latencyP99Ms(deltas);
    expect(p99.count).toBe(100);
    // rank 99 of 99 in (0.025, 0.05]: the bucket's upper bound.
    expect(p99.value).toBeCloseTo(50, 6);
    for (let i = 0; i < 100; i++) r.observe(200, 0.3);
    const later = parseExposition(m.render([]));
    // Over the second window only slow requests: p99 inside (0.25, 0.5].
    expect(latencyP99Ms(increases(after, later, DURATION_BUCKET, sel)).value).toBeCloseTo(
      (0.25 + 0.25 * 0.99) * 1000,
      6,
    );
  });
});
