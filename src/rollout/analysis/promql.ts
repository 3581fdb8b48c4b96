/**
 * The PromQL an analysis with `provider: prometheus` runs: the operator's `query` with
 * its placeholders filled in, or bp's default query for a built-in metric. Pure.
 */
import { BpError } from '../../model/errors.js';

export interface QueryContext {
  environmentId: string;
  deploymentId: string;
  revisionId: string;
  /** Length of the measurement window, milliseconds. */
  windowMs: number;
}

/** A PromQL string literal's content: backslash, double quote and line breaks escaped. */
export function escapePromqlString(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** A PromQL range duration: whole seconds when exact (`30s`), else milliseconds (`1500ms`). */
export function promqlDuration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}

export function revisionSelector(ctx: QueryContext, extra = ''): string {
  return `deployment_id="${escapePromqlString(ctx.deploymentId)}",revision_id="${escapePromqlString(ctx.revisionId)}"${extra}`;
}

/** bp's definition of each built-in metric over the router metrics (docs/metrics.md). */
export function defaultQuery(metric: string, ctx: QueryContext): string | null {
  const range = promqlDuration(ctx.windowMs);
  switch (metric) {
    case 'success_rate':
      return (
        `sum(increase(bp_router_requests_total{${revisionSelector(ctx, ',code_class!="5xx"')}}[${range}]))` +
        ` / sum(increase(bp_router_requests_total{${revisionSelector(ctx)}}[${range}]))`
      );
    case 'latency_p99_ms':
      return `1000 * histogram_quantile(0.99, sum by (le) (rate(bp_router_request_duration_seconds_bucket{${revisionSelector(ctx)}}[${range}])))`;
    default:
      return null;
  }
}

const PLACEHOLDER = /\{\{\s*(revision_id|deployment_id|environment_id|interval)\s*\}\}/g;

/**
 * Fills `{{revision_id}}`, `{{deployment_id}}`, `{{environment_id}}` (escaped for use inside
 * a PromQL string literal) and `{{interval}}` (a PromQL duration) into the operator's query.
 */
export function renderQuery(template: string, ctx: QueryContext): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    switch (name) {
      case 'revision_id':
        return escapePromqlString(ctx.revisionId);
      case 'deployment_id':
        return escapePromqlString(ctx.deploymentId);
      case 'environment_id':
        return escapePromqlString(ctx.environmentId);
      default:
        return promqlDuration(ctx.windowMs);
    }
  });
}

/** The query to run, or a BpError when there is none for the metric. */
export function queryFor(metric: string, query: string | undefined, ctx: QueryContext): string {
  if (query !== undefined) return renderQuery(query, ctx);
  const q = defaultQuery(metric, ctx);
  if (q === null) {
    throw new BpError(
      'InvalidInput',
      `analysis metric "${metric}" is not built in (success_rate, latency_p99_ms); give it a query`,
    );
  }
  return q;
}
