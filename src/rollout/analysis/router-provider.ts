/**
 * `provider: router`: reads the deployment's router metrics directly (the deployer's
 * scrapeMetrics) at the start and at the end of the window, and computes the metric from
 * the difference. No Prometheus needed.
 */
import type { Analysis } from '../../model/environment.js';
import { BpError, ProviderError } from '../../model/errors.js';
import { ExpositionSyntaxError, parseExposition, type Sample } from './exposition.js';
import { DURATION_BUCKET, increases, latencyP99Ms, REQUESTS, successRate } from './router-math.js';
import { describe } from './verdict.js';
import type { MeasureTarget } from './types.js';

export interface RouterReading {
  value: number | null;
  detail: (analysis: Analysis, windowMs: number) => string;
}

async function scrapeSamples(target: MeasureTarget, signal: AbortSignal): Promise<Sample[]> {
  if (!target.scrape) {
    throw new BpError(
      'InvalidInput',
      `deployment "${target.deploymentId}" has no router metrics to read (its deployer has no scrapeMetrics); use provider: prometheus with an address`,
    );
  }
  const text = await target.scrape(signal);
  try {
    return parseExposition(text);
  } catch (e) {
    const why = e instanceof ExpositionSyntaxError ? e.message : String(e);
    throw new ProviderError(
      `the router metrics of deployment "${target.deploymentId}" are not Prometheus text format (${why})`,
      { cause: e },
    );
  }
}

/** The metric over the window between two scrapes. Pure. */
export function readRouterMetric(
  metric: string,
  before: readonly Sample[],
  after: readonly Sample[],
  target: MeasureTarget,
): RouterReading {
  const sel = { deploymentId: target.deploymentId, revisionId: target.revisionId };
  const noData = `no request reached revision "${target.revisionId}"`;
  switch (metric) {
    case 'success_rate': {
      const r = successRate(increases(before, after, REQUESTS, sel));
      return {
        value: r.value,
        detail: (a, ms) => describe(a, r.value, ms, `${r.ok} of ${r.total} requests succeeded`, noData),
      };
    }
    case 'latency_p99_ms': {
      const r = latencyP99Ms(increases(before, after, DURATION_BUCKET, sel));
      return {
        value: r.value,
        detail: (a, ms) => describe(a, r.value, ms, `from ${r.count} requests`, noData),
      };
    }
    default:
      throw new BpError(
        'InvalidInput',
        `analysis metric "${metric}" is not built in; provider router measures success_rate and latency_p99_ms (use provider: prometheus with a query for others)`,
      );
  }
}

export interface RouterWindow {
  finish(signal: AbortSignal): Promise<{ value: number | null; detail: string; closedAt: Date }>;
}

export async function openRouterWindow(
  analysis: Analysis,
  target: MeasureTarget,
  signal: AbortSignal,
  now: () => Date,
): Promise<RouterWindow> {
  readRouterMetric(analysis.metric, [], [], target); // an unknown metric fails now, not after the wait
  const before = await scrapeSamples(target, signal);
  const openedAt = now();
  return {
    async finish(finishSignal) {
      const after = await scrapeSamples(target, finishSignal);
      const closedAt = now();
      const reading = readRouterMetric(analysis.metric, before, after, target);
      return {
        value: reading.value,
        detail: reading.detail(analysis, closedAt.getTime() - openedAt.getTime()),
        closedAt,
      };
    },
  };
}
