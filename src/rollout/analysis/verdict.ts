/** Pure: judging a value against an analysis' bounds, and saying so in one sentence. */
import type { Analysis } from '../../model/environment.js';
import { BpError } from '../../model/errors.js';
import { parseDurationMs } from '../../model/environment.js';

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export function judge(analysis: Analysis, value: number | null): Verdict {
  if (value === null || Number.isNaN(value)) return 'inconclusive';
  if (analysis.min !== undefined && value < analysis.min) return 'fail';
  if (analysis.max !== undefined && value > analysis.max) return 'fail';
  return 'pass';
}

export function intervalMs(analysis: Analysis): number {
  const ms = parseDurationMs(analysis.interval);
  if (ms === null || ms <= 0)
    throw new BpError('InvalidInput', `analysis interval "${analysis.interval}" is not a duration like 30s, 5m or 1h`);
  return ms;
}

/** Up to 4 decimals for rates, 1 for milliseconds: enough to read, short enough for a log line. */
export function formatValue(metric: string, v: number): string {
  return String(Number(v.toFixed(metric.endsWith('_ms') ? 1 : 4)));
}

export function formatWindow(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120 || s % 60 !== 0) return `${s}s`;
  return s % 3600 === 0 ? `${s / 3600}h` : `${s / 60}m`;
}

/** "success_rate 0.62 < min 0.99 over 30s (31 of 50 requests succeeded)". */
export function describe(
  analysis: Analysis,
  value: number | null,
  windowMs: number,
  evidence: string,
  noData: string,
): string {
  const over = `over ${formatWindow(windowMs)}`;
  if (value === null) return `${analysis.metric}: ${noData} ${over}; inconclusive`;
  const v = formatValue(analysis.metric, value);
  const bounds: string[] = [];
  let comparison: string | null = null;
  if (analysis.min !== undefined) {
    if (value < analysis.min) comparison = `< min ${analysis.min}`;
    bounds.push(`>= min ${analysis.min}`);
  }
  if (analysis.max !== undefined) {
    if (comparison === null && value > analysis.max) comparison = `> max ${analysis.max}`;
    bounds.push(`<= max ${analysis.max}`);
  }
  return `${analysis.metric} ${v} ${comparison ?? bounds.join(' and ')} ${over}${evidence ? ` (${evidence})` : ''}`;
}
