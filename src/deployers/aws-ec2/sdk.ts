/**
 * The AWS SDK v3 clients, loaded on first use so that nothing else in bp pays for them,
 * and the translation of SDK errors into bp's coded ProviderError.
 */
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type * as ElbSdk from '@aws-sdk/client-elastic-load-balancing-v2';
import { AbortedError, BpError, PluginLoadError, ProviderError } from '../../model/errors.js';
import type { AwsEc2Config } from './config.js';

export type Ec2Module = typeof Ec2Sdk;
export type ElbModule = typeof ElbSdk;

export interface AwsClients {
  ec2Sdk: Ec2Module;
  elbSdk: ElbModule;
  ec2: Ec2Sdk.EC2Client;
  elb: ElbSdk.ElasticLoadBalancingV2Client;
}

const INSTALL = 'npm install @aws-sdk/client-ec2 @aws-sdk/client-elastic-load-balancing-v2';

export async function importSdk<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    throw new PluginLoadError(`the aws-ec2 deployer needs the AWS SDK package ${name}, which is not installed; run: ${INSTALL}`, { cause: e });
  }
}

/** Credentials come from the SDK's default chain (env, shared config/SSO, web identity, instance role). */
export async function createClients(config: AwsEc2Config): Promise<AwsClients> {
  const ec2Sdk = await importSdk<Ec2Module>('@aws-sdk/client-ec2');
  const elbSdk = await importSdk<ElbModule>('@aws-sdk/client-elastic-load-balancing-v2');
  const common = { region: config.region, maxAttempts: config.max_attempts, ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
  return { ec2Sdk, elbSdk, ec2: new ec2Sdk.EC2Client(common), elb: new elbSdk.ElasticLoadBalancingV2Client(common) };
}

const THROTTLING = new Set([
  'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException',
  'TooManyRequestsException', 'ProvisionedThroughputExceededException', 'SlowDown', 'EC2ThrottledException',
]);
/**
 * Eventual consistency and capacity: the same call usually succeeds a little later (EC2 API
 * Reference, "Error codes" and "Eventual consistency"; ELB API Reference, each action's Errors).
 * Not here on purpose: IdempotentParameterMismatch and IdempotentInstanceTerminated (a
 * client token reused for a different or finished launch: retrying the same call can never
 * succeed), InvalidTarget and RuleNotFound (handled where they are transient: registration
 * of just-started instances, reads of a shared listener).
 */
const TRANSIENT = new Set([
  'InvalidInstanceID.NotFound', 'ResourceInUse', 'InsufficientInstanceCapacity', 'PriorityInUse', 'Unavailable',
  'ServiceUnavailable', 'InternalError', 'InternalFailure', 'RequestTimeout', 'RequestExpired', 'InsufficientCapacity',
  'InsufficientAddressCapacity', 'InsufficientHostCapacity', 'InsufficientReservedInstanceCapacity', 'ConcurrentTagAccess',
  'IncorrectInstanceState', 'DependencyViolation',
]);
const TOKEN_REUSE = new Set(['IdempotentParameterMismatch', 'IdempotentInstanceTerminated']);
const QUOTAS = new Set([
  'VcpuLimitExceeded', 'InstanceLimitExceeded', 'TooManyRules', 'TooManyTargetGroups', 'TooManyTargets',
  'TooManyTags', 'TooManyActions', 'TooManyUniqueTargetGroupsPerLoadBalancer', 'MaxSpotInstanceCountExceeded',
]);
const PERMISSIONS = new Set([
  'AuthFailure', 'UnauthorizedOperation', 'InvalidClientTokenId', 'AccessDenied', 'AccessDeniedException',
  'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidAccessKeyId', 'MissingAuthenticationToken', 'OptInRequired',
]);

/** The service's error code: EC2 names errors by code, ELBv2 models add an `Exception` suffix. */
export function awsErrorCode(e: unknown): string {
  const err = e as { Code?: unknown; name?: unknown } | null;
  const raw = typeof err?.Code === 'string' ? err.Code : typeof err?.name === 'string' ? err.name : 'Error';
  return raw.endsWith('Exception') && !THROTTLING.has(raw) && !PERMISSIONS.has(raw) ? raw.slice(0, -'Exception'.length) : raw;
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Maps any failure of `operation` to a BpError an operator can act on; keeps bp's own errors. */
export function toProviderError(operation: string, e: unknown, signal?: AbortSignal): BpError {
  if (BpError.is(e)) return e;
  if (signal?.aborted) return new AbortedError(`${operation} was aborted`);
  const code = awsErrorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  const status = statusOf(e);
  const what = `AWS ${operation} failed: ${code}: ${message}`;
  if (THROTTLING.has(code)) return new ProviderError(`${what} (throttled; bp retries with backoff)`, { cause: e, retryable: true });
  if (QUOTAS.has(code)) {
    return new ProviderError(`${what} (a service quota is reached: free capacity or request an increase in Service Quotas)`, { cause: e, retryable: false });
  }
  if (PERMISSIONS.has(code)) {
    return new ProviderError(`${what} (check the credentials and the IAM permissions listed in docs/deployers/aws-ec2.md)`, { cause: e, retryable: false });
  }
  if (TOKEN_REUSE.has(code)) {
    return new ProviderError(`${what} (a RunInstances client token was reused for another launch; this is a bp bug, please report it)`,
      { cause: e, retryable: false });
  }
  if (TRANSIENT.has(code) || (status !== undefined && status >= 500)) return new ProviderError(what, { cause: e, retryable: true });
  // No HTTP status at all: the request never got an answer (DNS, refused connection, timeout).
  if (status === undefined) return new ProviderError(`${what} (no answer from AWS)`, { cause: e, retryable: true });
  return new ProviderError(what, { cause: e, retryable: false });
}

/** Runs one SDK call and translates its failure. */
export async function aws<T>(operation: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new AbortedError(`${operation} was aborted`);
  try {
    return await call();
  } catch (e) {
    throw toProviderError(operation, e, signal);
  }
}
