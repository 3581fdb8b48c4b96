/**
 * Compute Engine failures as bp provider errors. Throttling, server errors, stock-outs and
 * eventual consistency (a resource still in use or not ready) are retryable; quota, IAM and
 * invalid requests need a person and are not.
 */
import type { Classifier, FailureKind, ProviderFailure } from '../kit/provider-errors.js';
import { isRetryableKind, parseRetryAfter, providerCalls } from '../kit/provider-errors.js';

export interface GceFailure {
  /** HTTP status (0 when the request never got an answer). */
  status: number;
  /** `errors[].reason` of an HTTP error, or `errors[].code` of a failed operation. */
  reason: string;
  message: string;
}

const GRPC_TO_HTTP: Record<number, number> = {
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 412,
  13: 500,
  14: 503,
  16: 401,
};

/** Reads status, reason and message from what the SDK throws (a Gaxios or Google error). */
export function failureOf(e: unknown): GceFailure {
  const err = (e ?? {}) as {
    code?: unknown;
    status?: unknown;
    message?: unknown;
    reason?: unknown;
    response?: { data?: unknown };
  };
  let status = typeof err.status === 'number' ? err.status : typeof err.code === 'number' ? err.code : 0;
  if (status > 0 && status < 100) status = GRPC_TO_HTTP[status] ?? 500;
  let reason = typeof err.reason === 'string' ? err.reason : '';
  let message = typeof err.message === 'string' ? err.message : String(e);
  const body = parseBody(err.response?.data) ?? parseBody(message);
  if (body) {
    status = body.code ?? status;
    message = body.message ?? message;
    reason = body.errors?.[0]?.reason ?? reason;
  }
  if (!reason && typeof err.code === 'string') reason = err.code;
  return { status, reason, message };
}

interface ErrorBody {
  code?: number;
  message?: string;
  errors?: Array<{ reason?: string }>;
}

function parseBody(data: unknown): ErrorBody | null {
  let v = data;
  if (typeof v === 'string') {
    if (!v.trim().startsWith('{')) return null;
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  const error = (v as { error?: ErrorBody } | null)?.error;
  return error && typeof error === 'object' ? error : null;
}

const RETRYABLE_REASONS = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'RATE_LIMIT_EXCEEDED',
  'backendError',
  'internalError',
  'resourceNotReady',
  'RESOURCE_NOT_READY',
  'resourceInUseByAnotherResource',
  'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE',
  'conditionNotMet',
  'ZONE_RESOURCE_POOL_EXHAUSTED',
  'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
  'SERVICE_UNAVAILABLE',
]);
const QUOTA_REASONS = new Set(['quotaExceeded', 'QUOTA_EXCEEDED']);

export function isRetryableFailure(f: GceFailure): boolean {
  if (QUOTA_REASONS.has(f.reason)) return false;
  return RETRYABLE_REASONS.has(f.reason) || f.status === 429 || f.status >= 500 || f.status === 0;
}

export const isNotFound = (f: GceFailure) =>
  f.status === 404 || f.reason === 'notFound' || f.reason === 'RESOURCE_NOT_FOUND';
export const isAlreadyExists = (f: GceFailure) =>
  f.status === 409 || f.reason === 'alreadyExists' || f.reason === 'RESOURCE_ALREADY_EXISTS';

const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);

/** Reads a Gaxios or Google error into the kit's failure shape. */
export const classifyGce: Classifier = (e) => {
  const f = failureOf(e);
  const kind: FailureKind = QUOTA_REASONS.has(f.reason)
    ? 'quota'
    : THROTTLE_REASONS.has(f.reason) || f.status === 429
      ? 'throttled'
      : isRetryableFailure(f)
        ? 'retryable'
        : f.status === 401 || f.status === 403
          ? 'auth'
          : isNotFound(f)
            ? 'not-found'
            : 'rejected';
  const headers = (e as { response?: { headers?: Record<string, unknown> } } | null)?.response?.headers;
  const retryAfterMs = kind === 'throttled' ? parseRetryAfter(headers?.['retry-after']) : undefined;
  return {
    kind,
    status: f.status,
    code: f.reason,
    message: f.message,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
};

function describe(f: ProviderFailure, what: string): string {
  let hint = '';
  if (f.kind === 'quota') hint = '; request a quota increase or lower resources.replicas';
  else if (f.status === 401)
    hint = '; check the credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud auth application-default login)';
  else if (f.status === 403)
    hint = '; the caller lacks a permission (see docs/deployers/gcp-compute.md for the roles needed)';
  else if (isRetryableKind(f.kind)) hint = '; retrying may help';
  const status = f.status ? `HTTP ${f.status}` : 'no answer';
  return `Compute Engine ${what} failed (${status}${f.code ? ` ${f.code}` : ''}): ${f.message}${hint}`;
}

/** An operator-facing provider error for `what` (e.g. "insert backendServices/x"). */
export const providerError = providerCalls(classifyGce, describe).error;
