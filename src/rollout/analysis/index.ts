/**
 * Rollout analyses: measure one metric of a revision over a window, then judge it against
 * the analysis' bounds. The rollout engine opens a window, waits the interval, and
 * finishes it:
 *
 *   const w = await openWindow(analysis, target, signal);
 *   await sleep(intervalMs(analysis));
 *   const m = await w.finish(signal);   // { at, value, verdict, detail }
 *
 * Providers: `router` reads bp's router metrics through the deployer (router-provider.ts),
 * `prometheus` queries a Prometheus server (prometheus-provider.ts). Definitions of the
 * built-in metrics: docs/metrics.md.
 */
import type { Analysis } from '../../model/environment.js';
import { openPrometheusWindow } from './prometheus-provider.js';
import { openRouterWindow } from './router-provider.js';
import type { MeasureTarget, Measurement, MeasurementWindow } from './types.js';
import { judge } from './verdict.js';

export type { MeasureTarget, Measurement, MeasurementWindow } from './types.js';
export { intervalMs, judge } from './verdict.js';

/** Opens a window now (router: scrapes a baseline; prometheus: notes the start); the caller waits the interval, then calls finish. */
export async function openWindow(
  analysis: Analysis,
  target: MeasureTarget,
  signal: AbortSignal,
  now: () => Date = () => new Date(),
): Promise<MeasurementWindow> {
  const window =
    analysis.provider === 'prometheus'
      ? openPrometheusWindow(analysis, target, now)
      : await openRouterWindow(analysis, target, signal, now);
  return {
    async finish(finishSignal: AbortSignal): Promise<Measurement> {
      const { value, detail, closedAt } = await window.finish(finishSignal);
      return { at: closedAt.toISOString(), value, verdict: judge(analysis, value), detail };
    },
  };
}
