import { describe, expect, it } from 'vitest';
import {
  defaultQuery,
  escapePromqlString,
  promqlDuration,
  queryFor,
  renderQuery,
} from '../../../src/rollout/analysis/promql.js';

const ctx = { environmentId: 'demo', deploymentId: 'web', revisionId: 'web-v2', windowMs: 30_000 };

describe('PromQL for analyses', () => {
  it('builds the documented default queries', () => {
    expect(defaultQuery('success_rate', ctx)).toBe(
      'sum(increase(bp_router_requests_total{deployment_id="web",revision_id="web-v2",code_class!="5xx"}[30s]))' +
        ' / sum(increase(bp_router_requests_total{deployment_id="web",revision_id="web-v2"}[30s]))',
    );
    expect(defaultQuery('latency_p99_ms', ctx)).toBe(
      '1000 * histogram_quantile(0.99, sum by (le) (rate(bp_router_request_duration_seconds_bucket{deployment_id="web",revision_id="web-v2"}[30s])))',
    );
    expect(defaultQuery('error_budget', ctx)).toBeNull();
  });

  it('escapes label values and renders durations PromQL accepts', () => {
    expect(escapePromqlString('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(defaultQuery('success_rate', { ...ctx, revisionId: 'x"}or vector(1)#' })).toContain(
      'revision_id="x\\"}or vector(1)#"',
    );
    expect(promqlDuration(30_000)).toBe('30s');
    expect(promqlDuration(30_012)).toBe('30012ms');
    expect(promqlDuration(0)).toBe('1ms');
  });

  it('fills the placeholders of a custom query', () => {
    expect(
      renderQuery(
        'x{env="{{environment_id}}",d="{{ deployment_id }}",r="{{revision_id}}"}[{{interval}}] {{other}}',
        ctx,
      ),
    ).toBe('x{env="demo",d="web",r="web-v2"}[30s] {{other}}');
    expect(queryFor('anything', 'up{r="{{revision_id}}"}', ctx)).toBe('up{r="web-v2"}');
  });

  it('refuses a metric that is neither built in nor given a query', () => {
    expect(() => queryFor('error_budget', undefined, ctx)).toThrow(/"error_budget" is not built in.*give it a query/);
  });
});
