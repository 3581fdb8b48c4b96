/**
 * What a measurement window means for bp's router metrics, as pure functions of two
 * scrapes: per-series increases (Prometheus `increase` semantics without extrapolation:
 * a counter that went down was reset, so its later value is the increase), the success
 * rate, and quantiles from histogram buckets (Prometheus `histogram_quantile` semantics).
 */
import { type Sample, seriesKey } from './exposition.js';

export const REQUESTS = 'bp_router_requests_total';
export const DURATION_BUCKET = 'bp_router_request_duration_seconds_bucket';

export interface RevisionSelector {
  deploymentId: string;
  revisionId: string;
}

export interface SeriesIncrease {
  labels: Record<string, string>;
  increase: number;
}

function belongs(s: Sample, name: string, sel: RevisionSelector): boolean {
  return s.name === name && s.labels.deployment_id === sel.deploymentId && s.labels.revision_id === sel.revisionId;
}

/**
 * The increase of every series named `name` of the revision from `before` to `after`. A
 * series absent from `before` (a new host, a restarted router) started at zero.
 */
export function increases(
  before: readonly Sample[],
  after: readonly Sample[],
  name: string,
  sel: RevisionSelector,
): SeriesIncrease[] {
  const start = new Map<string, number>();
  for (const s of before) if (belongs(s, name, sel)) start.set(seriesKey(s), s.value);
  const out: SeriesIncrease[] = [];
  for (const s of after) {
    if (!belongs(s, name, sel) || !Number.isFinite(s.value)) continue;
    const was = start.get(seriesKey(s));
    const increase = was === undefined || !Number.isFinite(was) ? s.value : s.value >= was ? s.value - was : s.value;
    out.push({ labels: s.labels, increase });
  }
  return out;
}

export interface SuccessRate {
  /** ok / total; null when no request was answered. */
  value: number | null;
  ok: number;
  total: number;
}

/** Share of responses that were not 5xx (upstream failures are counted as 5xx by the router). */
export function successRate(requests: readonly SeriesIncrease[]): SuccessRate {
  let ok = 0;
  let total = 0;
  for (const r of requests) {
    total += r.increase;
    if (r.labels.code_class !== '5xx') ok += r.increase;
  }
  return { value: total > 0 ? ok / total : null, ok, total };
}

export interface Bucket {
  /** Upper bound, seconds; Infinity for `+Inf`. */
  le: number;
  /** Cumulative count. */
  count: number;
}

/** Sums bucket increases by `le` across the other labels (hosts), ascending by bound. */
export function bucketsByBound(buckets: readonly SeriesIncrease[]): Bucket[] {
  const byLe = new Map<number, number>();
  for (const b of buckets) {
    const text = b.labels.le;
    const le = text === '+Inf' ? Infinity : Number(text);
    if (text === undefined || Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + b.increase);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * The q-quantile of a cumulative histogram, interpolating linearly inside the bucket that
 * holds the rank, as Prometheus' histogram_quantile does: null without observations or
 * without a +Inf bucket; a rank in the +Inf bucket yields the highest finite bound.
 */
export function histogramQuantile(q: number, input: readonly Bucket[]): number | null {
  if (input.length < 2 || input[input.length - 1].le !== Infinity) return null;
  // Counts from independent series (resets, hosts) can be slightly non-monotonic: repair as Prometheus does.
  const buckets = input.map((b) => ({ ...b }));
  for (let i = 1; i < buckets.length; i++)
    if (buckets[i].count < buckets[i - 1].count) buckets[i].count = buckets[i - 1].count;
  const total = buckets[buckets.length - 1].count;
  if (!(total > 0)) return null;
  if (q <= 0) return -Infinity;
  if (q >= 1) return Infinity;
  let rank = q * total;
  // The first bucket reaching the rank; the one before it holds fewer observations than the rank.
  const b = buckets.findIndex((x) => x.count >= rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2].le;
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le;
  let start = 0;
  const end = buckets[b].le;
  let count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].le;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

export interface Latency {
  /** p99 in milliseconds; null when no request was answered. */
  value: number | null;
  count: number;
}

export function latencyP99Ms(buckets: readonly SeriesIncrease[]): Latency {
  const byBound = bucketsByBound(buckets);
  const count = byBound.length > 0 ? byBound[byBound.length - 1].count : 0;
  const seconds = histogramQuantile(0.99, byBound);
  return { value: seconds === null ? null : seconds * 1000, count };
}
