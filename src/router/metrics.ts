/**
 * Per-revision request metrics kept by the router process, rendered in Prometheus text
 * exposition format 0.0.4 (see docs/metrics.md). Counters live for the life of the
 * process: a config reload keeps every revision's series (a split change must not look
 * like a counter reset), only a router restart starts them from zero.
 *
 * The hot path is `RevisionMetrics.observe`: a few additions into preallocated arrays, no
 * allocation, no map lookup (each Backend holds its revision's RevisionMetrics directly).
 */

/** Prometheus' default histogram buckets, in seconds (client_golang DefBuckets). */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const CODE_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
export type CodeClass = (typeof CODE_CLASSES)[number];

/** Index into CODE_CLASSES; 1xx (never final for a proxied request) counts with 2xx. */
function classIndex(status: number): number {
  if (status >= 500) return 3;
  if (status >= 400) return 2;
  if (status >= 300) return 1;
  return 0;
}

export class RevisionMetrics {
  readonly byClass = new Float64Array(CODE_CLASSES.length);
  /** Non-cumulative counts per bucket; the last slot is (10s, +Inf). */
  readonly buckets = new Float64Array(DURATION_BUCKETS_SECONDS.length + 1);
  durationSum = 0;
  upstreamErrors = 0;
  clientAborts = 0;

  constructor(readonly revisionId: string) {}

  /** One finished response: its status code and how long it took, in seconds. */
  observe(status: number, seconds: number): void {
    this.byClass[classIndex(status)]++;
    let i = 0;
    while (i < DURATION_BUCKETS_SECONDS.length && seconds > DURATION_BUCKETS_SECONDS[i]) i++;
    this.buckets[i]++;
    this.durationSum += seconds;
  }

  get count(): number {
    let n = 0;
    for (let i = 0; i < this.buckets.length; i++) n += this.buckets[i];
    return n;
  }
}

/** What the weight gauge reports: the revision's configured weight, 0 while draining. */
export interface EnforcedWeight {
  revision_id: string;
  weight_bps: number;
}

export class RouterMetrics {
  private readonly revisions = new Map<string, RevisionMetrics>();
  /** Requests the router answered itself because no backend was healthy: no revision to blame. */
  unrouted = 0;

  constructor(readonly deploymentId: string) {}

  /** The revision's metrics, created on first use and kept for the life of the process. */
  forRevision(revisionId: string): RevisionMetrics {
    let m = this.revisions.get(revisionId);
    if (!m) {
      m = new RevisionMetrics(revisionId);
      this.revisions.set(revisionId, m);
    }
    return m;
  }

  /** The exposition text; revisions no longer configured keep their counters and report weight 0. */
  render(weights: readonly EnforcedWeight[]): string {
    const dep = `deployment_id="${escapeLabelValue(this.deploymentId)}"`;
    const weightOf = new Map(weights.map((w) => [w.revision_id, w.weight_bps]));
    for (const w of weights) this.forRevision(w.revision_id);
    const revs = [...this.revisions.values()].sort((a, b) =>
      a.revisionId < b.revisionId ? -1 : a.revisionId > b.revisionId ? 1 : 0,
    );
    const labels = (m: RevisionMetrics): string => `${dep},revision_id="${escapeLabelValue(m.revisionId)}"`;
    const out: string[] = [];

    header(
      out,
      'bp_router_requests_total',
      'counter',
      'Responses the router sent, by revision and status class (upstream failures count as 5xx).',
    );
    for (const m of revs) {
      for (let c = 0; c < CODE_CLASSES.length; c++) {
        out.push(`bp_router_requests_total{${labels(m)},code_class="${CODE_CLASSES[c]}"} ${num(m.byClass[c])}`);
      }
    }
    header(
      out,
      'bp_router_upstream_errors_total',
      'counter',
      'Attempts to forward a request that failed at the connection level (refused, reset, timeout).',
    );
    for (const m of revs) out.push(`bp_router_upstream_errors_total{${labels(m)}} ${num(m.upstreamErrors)}`);
    header(
      out,
      'bp_router_client_aborts_total',
      'counter',
      'Requests the client abandoned before any response was sent (not counted in requests_total).',
    );
    for (const m of revs) out.push(`bp_router_client_aborts_total{${labels(m)}} ${num(m.clientAborts)}`);

    header(
      out,
      'bp_router_request_duration_seconds',
      'histogram',
      'Time from receiving a request to the end of its response.',
    );
    for (const m of revs) {
      let cumulative = 0;
      for (let i = 0; i < DURATION_BUCKETS_SECONDS.length; i++) {
        cumulative += m.buckets[i];
        out.push(
          `bp_router_request_duration_seconds_bucket{${labels(m)},le="${DURATION_BUCKETS_SECONDS[i]}"} ${num(cumulative)}`,
        );
      }
      cumulative += m.buckets[DURATION_BUCKETS_SECONDS.length];
      out.push(`bp_router_request_duration_seconds_bucket{${labels(m)},le="+Inf"} ${num(cumulative)}`);
      out.push(`bp_router_request_duration_seconds_sum{${labels(m)}} ${num(m.durationSum)}`);
      out.push(`bp_router_request_duration_seconds_count{${labels(m)}} ${num(cumulative)}`);
    }

    header(
      out,
      'bp_router_weight_bps',
      'gauge',
      'Share of new requests the router sends to the revision, in basis points.',
    );
    for (const m of revs) out.push(`bp_router_weight_bps{${labels(m)}} ${num(weightOf.get(m.revisionId) ?? 0)}`);

    header(
      out,
      'bp_router_unrouted_requests_total',
      'counter',
      'Requests answered 502 because no backend of any revision was healthy.',
    );
    out.push(`bp_router_unrouted_requests_total{${dep}} ${num(this.unrouted)}`);
    return out.join('\n') + '\n';
  }
}

function header(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

/** Text format 0.0.4: backslash, double quote and line feed are escaped in label values. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
