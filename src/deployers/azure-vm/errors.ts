/**
 * Azure failures as bp provider errors. Throttling (429), server errors, capacity shortages
 * and "another operation is in progress" are retryable; quota, permission, credential and
 * invalid-request errors need a person and are not. Every SDK call goes through `arm()`.
 */
import { AbortedError, BpError, ProviderError } from '../../model/errors.js';

export interface AzureFailure {
  /** HTTP status (0: no answer, or a long-running operation that ended Failed). */
  status: number;
  /** ARM error code (`OperationNotAllowed`, `QuotaExceeded`, …). */
  code: string;
  message: string;
}

/** What the SDKs throw: a RestError (`statusCode`, `code`), or core-lro's "The long-running operation has failed. CODE. message". */
export function failureOf(e: unknown): AzureFailure {
  const err = (e ?? {}) as { statusCode?: unknown; code?: unknown; message?: unknown; details?: { error?: { code?: string; message?: string } } };
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
  'TooManyRequests', 'RetryableError', 'AnotherOperationInProgress', 'Conflict', 'InternalServerError', 'ServiceUnavailable',
  'AllocationFailed', 'ZonalAllocationFailed', 'OverconstrainedAllocationRequest', 'GatewayTimeout', 'InternalOperationError',
  'PublicIPAddressCannotBeDeleted', 'NicInUse', 'InUseSubnetCannotBeDeleted', 'ResourceNotReady', 'OperationPreempted',
  'REQUEST_SEND_ERROR', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT',
]);
const QUOTA_CODES = new Set(['OperationNotAllowed', 'QuotaExceeded', 'SkuNotAvailable', 'PublicIPCountLimitReached', 'TooManyEndpoints']);
const AUTH_CODES = new Set(['AuthenticationFailed', 'InvalidAuthenticationToken', 'ExpiredAuthenticationToken', 'AuthorizationFailed', 'LinkedAuthorizationFailed', 'InvalidAuthenticationTokenTenant', 'CredentialUnavailableError', 'AuthenticationRequiredError']);

export function isRetryable(f: AzureFailure): boolean {
  if (QUOTA_CODES.has(f.code) || AUTH_CODES.has(f.code)) return false;
  return RETRYABLE_CODES.has(f.code) || f.status === 429 || f.status >= 500 || (f.status === 0 && f.code === '');
}

export const isNotFound = (f: AzureFailure) => f.status === 404 || f.code === 'ResourceNotFound' || f.code === 'NotFound';

/** An operator-facing error for `what` (e.g. "create virtual machine bp-web-1a2b-vm-0"). */
export function providerError(what: string, e: unknown, signal?: AbortSignal): BpError {
  if (BpError.is(e)) return e;
  if (signal?.aborted || (e as { name?: string } | null)?.name === 'AbortError') return new AbortedError(`${what} was aborted`);
  const f = failureOf(e);
  if ((e as { name?: string } | null)?.name === 'CredentialUnavailableError' || (e as { name?: string } | null)?.name === 'AuthenticationError') {
    return new ProviderError(`Azure ${what} failed: no usable credential (${f.message.split('\n')[0]}); see docs/deployers/azure-vm.md, Credentials`, { cause: e, retryable: false });
  }
  const retryable = isRetryable(f);
  let hint = '';
  if (QUOTA_CODES.has(f.code)) hint = '; request a quota increase (Usage + quotas in the portal) or lower resources.replicas';
  else if (f.status === 401 || AUTH_CODES.has(f.code)) hint = '; check the credentials and the role assignments listed in docs/deployers/azure-vm.md';
  else if (retryable) hint = '; retrying may help';
  const status = f.status ? `HTTP ${f.status}` : 'no HTTP status';
  return new ProviderError(`Azure ${what} failed (${status}${f.code ? ` ${f.code}` : ''}): ${f.message}${hint}`, { cause: e, retryable });
}

/** Runs one SDK call (or poller) and translates its failure; `null` for a 404 when `missingOk`. */
export async function arm<T>(what: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new AbortedError(`${what} was aborted`);
  try {
    return await call();
  } catch (e) {
    throw providerError(what, e, signal);
  }
}

/** Like `arm`, but a resource that does not exist is `null`, not an error. */
export async function armOrNull<T>(what: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T | null> {
  if (signal?.aborted) throw new AbortedError(`${what} was aborted`);
  try {
    return await call();
  } catch (e) {
    if (isNotFound(failureOf(e))) return null;
    throw providerError(what, e, signal);
  }
}
