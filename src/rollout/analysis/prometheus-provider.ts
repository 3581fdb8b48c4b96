/**
 * `provider: prometheus`: notes when the window opens; at the end runs one instant query
 * at the closing time over a range as long as the window.
 */
import type { Analysis } from '../../model/environment.js';
import { BpError } from '../../model/errors.js';
import { instantQuery } from './prometheus-client.js';
import { queryFor, type QueryContext } from './promql.js';
import type { MeasureTarget } from './types.js';
import { describe } from './verdict.js';

export interface PrometheusWindow {
  finish(signal: AbortSignal): Promise<{ value: number | null; detail: string; closedAt: Date }>;
}

function contextOf(target: MeasureTarget, windowMs: number): QueryContext {
  return {
    environmentId: target.environmentId,
    deploymentId: target.deploymentId,
    revisionId: target.revisionId,
    windowMs,
  };
}

export function openPrometheusWindow(analysis: Analysis, target: MeasureTarget, now: () => Date): PrometheusWindow {
  const address = analysis.address;
  if (!address) {
    throw new BpError(
      'InvalidInput',
      `analysis of "${analysis.metric}" uses provider prometheus but gives no address (e.g. http://127.0.0.1:9090)`,
    );
  }
  queryFor(analysis.metric, analysis.query, contextOf(target, 1000)); // a metric without a query fails now, not after the wait
  const openedAt = now();
  return {
    async finish(signal) {
      const closedAt = now();
      const windowMs = Math.max(1000, closedAt.getTime() - openedAt.getTime());
      const query = queryFor(analysis.metric, analysis.query, contextOf(target, windowMs));
      const value = await instantQuery(address, query, closedAt, signal);
      const detail = describe(
        analysis,
        value,
        windowMs,
        `Prometheus at ${address}`,
        `the query returned no data for revision "${target.revisionId}"`,
      );
      return { value, detail, closedAt };
    },
  };
}
