/**
 * Turns what the Kubernetes API (or the network) said into ProviderErrors an operator can act
 * on: throttling, server errors and optimistic-concurrency conflicts are retryable; bad
 * credentials, RBAC denials, invalid objects and field-manager conflicts need a person.
 */
import { AbortedError, BpError, ProviderError } from '../../model/errors.js';

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
  if (!s)
    return new ProviderError(`${what}: cannot reach the Kubernetes API at ${server}: ${msg}`, {
      cause: e,
      retryable: isNetworkError(e),
    });
  const said = s.message ? `: ${s.message}` : '';
  switch (true) {
    case s.code === 401:
      return new ProviderError(
        `${what}: the Kubernetes API at ${server} rejected bp's credentials (401 Unauthorized); check the kubeconfig user or token`,
        { cause: e },
      );
    case s.code === 403:
      return new ProviderError(
        `${what}: forbidden by the cluster's RBAC${said}; grant bp's user that verb on that resource`,
        { cause: e },
      );
    case isFieldManagerConflict(s): {
      const fields = (s.details?.causes ?? []).map((c) => `${c.field ?? '?'} (${c.message ?? 'conflict'})`).join(', ');
      return new ProviderError(
        `${what}: server-side apply conflict: another field manager changed fields bp manages: ${fields}; ` +
          `undo that change, or set force_conflicts: true so bp takes the fields back`,
        { cause: e, retryable: false },
      );
    }
    case s.code === 409:
      return new ProviderError(`${what}: conflict (409)${said}`, { cause: e, retryable: s.reason !== 'AlreadyExists' });
    case s.code === 429:
      return new ProviderError(
        `${what}: the Kubernetes API is throttling bp (429 Too Many Requests); try again later`,
        { cause: e, retryable: true },
      );
    case s.code === 422:
      return new ProviderError(`${what}: the cluster rejected the object as invalid${said}`, { cause: e });
    case s.code >= 500:
      return new ProviderError(
        `${what}: the Kubernetes API failed (${s.code}${s.reason ? ` ${s.reason}` : ''})${said}`,
        { cause: e, retryable: true },
      );
    default:
      return new ProviderError(
        `${what}: the Kubernetes API answered ${s.code}${s.reason ? ` ${s.reason}` : ''}${said}`,
        { cause: e },
      );
  }
}
