/**
 * Azure failures as bp provider errors. Throttling (429), server errors, capacity shortages
 * and "another operation is in progress" are retryable; quota, permission, credential and
 * invalid-request errors need a person and are not. Every SDK call goes through `arm()`.
 */
import type { Classifier, FailureKind, ProviderFailure } from '../kit/provider-errors.js';
import { isRetryableKind, parseRetryAfter, providerCalls } from '../kit/provider-errors.js';

export interface AzureFailure {
  /** HTTP status (0: no answer, or a long-running operation that ended Failed). */
  status: number;
  /** ARM error code (`OperationNotAllowed`, `QuotaExceeded`, …). */
  code: string;
  message: string;
}

/** What the SDKs throw: a RestError (`statusCode`, `code`), or core-lro's "The long-running operation has failed. CODE. message". */
export function failureOf(e: unknown): AzureFailure {
  const err = (e ?? {}) as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
    details?: { error?: { code?: string; message?: string } };
  };
  let message = typeof err.message === 'string' ? err.message : String(e);
  let code = typeof err.code === 'string' ? err.code : '';
  const detail = err.details?.error;
  if (detail?.code) code = detail.code;
  if (detail?.message) message = detail.message;
  const lro = /^The long-running operation has failed\. ([A-Za-z0-9_.]+)\. ([\s\S]*)$/.exec(message);
  if (lro) {
    code = lro[1];
    message = lro[2];
  }
  return { status: typeof err.statusCode === 'number' ? err.statusCode : 0, code, message };
}

const RETRYABLE_CODES = new Set([
  'TooManyRequests',
  'RetryableError',
  'AnotherOperationInProgress',
  'Conflict',
  'InternalServerError',
  'ServiceUnavailable',
  'AllocationFailed',
  'ZonalAllocationFailed',
  'OverconstrainedAllocationRequest',
  'GatewayTimeout',
  'InternalOperationError',
  'PublicIPAddressCannotBeDeleted',
  'NicInUse',
  'InUseSubnetCannotBeDeleted',
  'ResourceNotReady',
  'OperationPreempted',
  'REQUEST_SEND_ERROR',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
]);
const QUOTA_CODES = new Set([
  'OperationNotAllowed',
  'QuotaExceeded',
  'SkuNotAvailable',
  'PublicIPCountLimitReached',
  'TooManyEndpoints',
]);
const AUTH_CODES = new Set([
  'AuthenticationFailed',
  'InvalidAuthenticationToken',
  'ExpiredAuthenticationToken',
  'AuthorizationFailed',
  'LinkedAuthorizationFailed',
  'InvalidAuthenticationTokenTenant',
  'CredentialUnavailableError',
  'AuthenticationRequiredError',
]);

export function isRetryable(f: AzureFailure): boolean {
  if (QUOTA_CODES.has(f.code) || AUTH_CODES.has(f.code)) return false;
  return RETRYABLE_CODES.has(f.code) || f.status === 429 || f.status >= 500 || (f.status === 0 && f.code === '');
}

export const isNotFound = (f: AzureFailure) =>
  f.status === 404 || f.code === 'ResourceNotFound' || f.code === 'NotFound';

/** Reads a RestError, core-lro failure or credential error into the kit's failure shape. */
export const classifyAzure: Classifier = (e) => {
  const f = failureOf(e);
  const name = (e as { name?: string } | null)?.name;
  const noCredential = name === 'CredentialUnavailableError' || name === 'AuthenticationError';
  const kind: FailureKind =
    noCredential || f.status === 401 || AUTH_CODES.has(f.code)
      ? 'auth'
      : QUOTA_CODES.has(f.code)
        ? 'quota'
        : f.status === 429 || f.code === 'TooManyRequests'
          ? 'throttled'
          : isRetryable(f)
            ? 'retryable'
            : isNotFound(f)
              ? 'not-found'
              : 'rejected';
  const headers = (e as { response?: { headers?: { get?: (n: string) => string | undefined } } } | null)?.response
    ?.headers;
  const retryAfterMs = kind === 'throttled' ? parseRetryAfter(headers?.get?.('retry-after')) : undefined;
  return {
    kind,
    status: f.status,
    code: noCredential ? (name as string) : f.code,
    message: f.message,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
};

function describe(f: ProviderFailure, what: string): string {
  if (f.code === 'CredentialUnavailableError' || f.code === 'AuthenticationError') {
    return `Azure ${what} failed: no usable credential (${f.message.split('\n')[0]}); see docs/deployers/azure-vm.md, Credentials`;
  }
  let hint = '';
  if (f.code === 'SkuNotAvailable')
    hint = '; the VM size is not offered there: choose another vm_size or location (az vm list-skus -l LOCATION)';
  else if (f.kind === 'quota')
    hint = '; request a quota increase (Usage + quotas in the portal) or lower resources.replicas';
  else if (f.kind === 'auth')
    hint = '; check the credentials and the role assignments listed in docs/deployers/azure-vm.md';
  else if (isRetryableKind(f.kind)) hint = '; retrying may help';
  const status = f.status ? `HTTP ${f.status}` : 'no HTTP status';
  return `Azure ${what} failed (${status}${f.code ? ` ${f.code}` : ''}): ${f.message}${hint}`;
}

const azure = providerCalls(classifyAzure, describe);

/** An operator-facing error for `what` (e.g. "create virtual machine bp-web-1a2b-vm-0"). */
export const providerError = azure.error;

/** Runs one SDK call (or poller) once and translates its failure. */
export const arm = azure.call;

/** Like `arm`, but a resource that does not exist is `null`, not an error. */
export const armOrNull = azure.callOrNull;
