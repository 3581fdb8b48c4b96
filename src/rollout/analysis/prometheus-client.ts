/**
 * One instant query against a Prometheus server's HTTP API
 * (`GET /api/v1/query?query=...&time=...`), reduced to the single number an analysis
 * needs. Errors carry the server's address and Prometheus' own message.
 */
import { AbortedError, BpError, ProviderError } from '../../model/errors.js';

const QUERY_TIMEOUT_MS = 30_000;

interface ApiResponse {
  status?: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

type VectorSample = { metric: Record<string, string>; value: [number, string] };

/** Prometheus' JSON carries sample values as strings, NaN and ±Inf included. */
function sampleValue(text: string): number | null {
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

function describeSeries(metric: Record<string, string>): string {
  const { __name__: name = '', ...labels } = metric;
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

/**
 * The query's value at `time`: one sample (a one-element vector or a scalar). An empty
 * vector, NaN or an infinity is null (no data); more than one series is an error.
 */
export async function instantQuery(
  address: string,
  query: string,
  time: Date,
  signal: AbortSignal,
): Promise<number | null> {
  const url = new URL('api/v1/query', address.endsWith('/') ? address : `${address}/`);
  url.searchParams.set('query', query);
  url.searchParams.set('time', (time.getTime() / 1000).toFixed(3));
  if (signal.aborted) throw new AbortedError('the Prometheus query was aborted');
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(QUERY_TIMEOUT_MS)]),
      headers: { accept: 'application/json' },
    });
  } catch (e) {
    if (signal.aborted) throw new AbortedError('the Prometheus query was aborted');
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (e as Error).name === 'TimeoutError'
        ? `no answer within ${QUERY_TIMEOUT_MS / 1000}s`
        : (cause?.code ?? cause?.message ?? (e as Error).message);
    throw new ProviderError(`Prometheus at ${address} is unreachable: ${why}`, { cause: e, retryable: true });
  }
  const text = await res.text().catch(() => '');
  let body: ApiResponse | null = null;
  try {
    body = JSON.parse(text) as ApiResponse;
  } catch {
    body = null;
  }
  if (!res.ok || body?.status !== 'success') {
    const retryable =
      res.status >= 500 || res.status === 429 || body?.errorType === 'timeout' || body?.errorType === 'unavailable';
    const why = body?.error
      ? `${body.errorType ?? 'error'}: ${body.error}`
      : `HTTP ${res.status}${text ? `: ${text.slice(0, 200).trim()}` : ''}`;
    throw new ProviderError(`Prometheus at ${address} refused the query ${JSON.stringify(query)}: ${why}`, {
      retryable,
    });
  }
  const { resultType, result } = body.data ?? {};
  if (resultType === 'scalar' && Array.isArray(result)) return sampleValue(String(result[1]));
  if (resultType === 'vector' && Array.isArray(result)) {
    const samples = result as VectorSample[];
    if (samples.length === 0) return null;
    if (samples.length > 1) {
      throw new BpError(
        'InvalidInput',
        `the query ${JSON.stringify(query)} returned ${samples.length} series (${samples
          .slice(0, 3)
          .map((s) => describeSeries(s.metric))
          .join(', ')}` +
          `${samples.length > 3 ? ', ...' : ''}); an analysis needs one number, e.g. aggregate it with sum(...)`,
      );
    }
    return sampleValue(samples[0].value[1]);
  }
  throw new BpError(
    'InvalidInput',
    `the query ${JSON.stringify(query)} returned a ${resultType ?? 'malformed'} result; an analysis needs one number (a scalar or a one-element vector)`,
  );
}
