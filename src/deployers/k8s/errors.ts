/**
 * Turns what the Kubernetes API (or the network) said into the kit's `ProviderFailure` shape
 * (`classifyKube`), then into ProviderErrors an operator can act on: throttling, server errors
 * and optimistic-concurrency conflicts are retryable; bad credentials, RBAC denials, quotas,
 * invalid objects and field-manager conflicts need a person.
 */
import { AbortedError, BpError, ProviderError } from '../../model/errors.js';
import { failureError, type ProviderFailure } from '../kit/provider-errors.js';

export interface StatusLike {
  code: number;
  reason?: string;
  message?: string;
  details?: { causes?: Array<{ reason?: string; message?: string; field?: string }>; retryAfterSeconds?: number };
}

/** The Status body of an ApiException (the client hands it over parsed or as text). */
export function statusOf(e: unknown): StatusLike | undefined {
  if (typeof e !== 'object' || e === null || typeof (e as { code?: unknown }).code !== 'number') return undefined;
  const code = (e as { code: number }).code;
  if (code < 100) return undefined;
  let body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return { code, message: text };
    }
  }
  const b = (body ?? {}) as Partial<StatusLike>;
  return { code, reason: b.reason, message: b.message, details: b.details };
}

export function retryAfterMs(e: unknown): number | undefined {
  const headers = (e as { headers?: Record<string, string> }).headers ?? {};
  const header = Number(headers['retry-after'] ?? headers['Retry-After']);
  if (Number.isFinite(header) && header >= 0) return header * 1000;
  const fromBody = statusOf(e)?.details?.retryAfterSeconds;
  return typeof fromBody === 'number' ? fromBody * 1000 : undefined;
}

export function isFieldManagerConflict(s: StatusLike | undefined): boolean {
  return s?.code === 409 && (s.details?.causes ?? []).some((c) => c.reason === 'FieldManagerConflict');
}

/** Whether trying the same request again can help (throttling, 5xx, a stale resourceVersion, the network). */
export function isTransient(e: unknown): boolean {
  const s = statusOf(e);
  if (s)
    return (
      s.code === 429 || s.code >= 500 || (s.code === 409 && !isFieldManagerConflict(s) && s.reason !== 'AlreadyExists')
    );
  return isNetworkError(e);
}

function isNetworkError(e: unknown): boolean {
  const err = e as { name?: string; code?: unknown; type?: string; cause?: unknown };
  return err?.name === 'FetchError' || err?.type === 'system' || typeof err?.code === 'string';
}

/** What the Kubernetes API said, in the kit's shape (retryability is decided from the kind). */
export function classifyKube(e: unknown): ProviderFailure {
  const s = statusOf(e);
  const message = s?.message ?? (e instanceof Error ? e.message : String(e));
  if (!s) return { kind: isNetworkError(e) ? 'retryable' : 'rejected', status: 0, code: '', message };
  const base = { status: s.code, code: s.reason ?? '', message };
  if (s.code === 429) return { ...base, kind: 'throttled', retryAfterMs: retryAfterMs(e) };
  if (s.code === 401) return { ...base, kind: 'auth' };
  // ResourceQuota admission answers 403 "exceeded quota".
  if (s.code === 403) return { ...base, kind: /exceeded quota/i.test(message) ? 'quota' : 'auth' };
  if (s.code === 404) return { ...base, kind: 'not-found' };
  return { ...base, kind: isTransient(e) ? 'retryable' : 'rejected' };
}

export function isAbort(e: unknown): boolean {
  return (e as { name?: string })?.name === 'AbortError' || (e as { type?: string })?.type === 'aborted';
}

/** One sentence about what went wrong during `what` (e.g. "applying Deployment web-v1"). */
export function toProviderError(e: unknown, what: string, server: string): BpError {
  if (BpError.is(e)) return e;
  if (isAbort(e)) return new AbortedError(`${what} was aborted`);
  const s = statusOf(e);
  const msg = e instanceof Error ? e.message : String(e);
  // Discovery found no such group/version (404) or no such kind in it: the API is not installed.
  const missing =
    /Unrecognized API version and kind: (\S+) (\S+)/.exec(msg) ??
    (s?.code === 404 ? /Failed to fetch resource metadata for (\S+)\/(\w+):/.exec(msg) : null);
  if (missing) {
    const [, gv, kind] = missing;
    return new ProviderError(
      `${what}: the cluster at ${server} does not serve ${kind} (${gv})` +
        (gv.startsWith('gateway.networking.k8s.io') ? '; install the Gateway API CRDs or set traffic: replicas' : ''),
      { cause: e },
    );
  }
  return failureError(classifyKube(e), describeKube(e, what, server), e);
}

/** The operator-facing sentence for a failed request. */
function describeKube(e: unknown, what: string, server: string): string {
  const s = statusOf(e);
  if (!s) return `${what}: cannot reach the Kubernetes API at ${server}: ${e instanceof Error ? e.message : String(e)}`;
  const said = s.message ? `: ${s.message}` : '';
  const reason = `${s.code}${s.reason ? ` ${s.reason}` : ''}`;
  switch (true) {
    case s.code === 401:
      return `${what}: the Kubernetes API at ${server} rejected bp's credentials (401 Unauthorized); check the kubeconfig user or token`;
    case s.code === 403 && classifyKube(e).kind === 'quota':
      return `${what}: the namespace's ResourceQuota is exhausted${said}; free capacity or raise the quota`;
    case s.code === 403:
      return `${what}: forbidden by the cluster's RBAC${said}; grant bp's user that verb on that resource`;
    case isFieldManagerConflict(s): {
      const fields = (s.details?.causes ?? []).map((c) => `${c.field ?? '?'} (${c.message ?? 'conflict'})`).join(', ');
      return (
        `${what}: server-side apply conflict: another field manager changed fields bp manages: ${fields}; ` +
        `undo that change, or set force_conflicts: true so bp takes the fields back`
      );
    }
    case s.code === 409:
      return `${what}: conflict (409)${said}`;
    case s.code === 429:
      return `${what}: the Kubernetes API is throttling bp (429 Too Many Requests); try again later`;
    case s.code === 422:
      return `${what}: the cluster rejected the object as invalid${said}`;
    case s.code >= 500:
      return `${what}: the Kubernetes API failed (${reason})${said}`;
    default:
      return `${what}: the Kubernetes API answered ${reason}${said}`;
  }
}
