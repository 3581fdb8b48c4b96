/**
 * The AWS SDK v3 clients, loaded on first use so that nothing else in bp pays for them,
 * and the translation of SDK errors into bp's coded ProviderError.
 */
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type * as ElbSdk from '@aws-sdk/client-elastic-load-balancing-v2';
import { type Classifier, type FailureKind, providerCalls, type ProviderFailure } from '../kit/provider-errors.js';
import { importPackage } from '../kit/sdk.js';
import type { AwsEc2Config } from './config.js';

export type Ec2Module = typeof Ec2Sdk;
export type ElbModule = typeof ElbSdk;

export interface AwsClients {
  ec2Sdk: Ec2Module;
  elbSdk: ElbModule;
  ec2: Ec2Sdk.EC2Client;
  elb: ElbSdk.ElasticLoadBalancingV2Client;
}

/** Imports one package of the AWS SDK (a PluginLoadError naming the install command if it is missing). */
export function importSdk<T>(name: string): Promise<T> {
  return importPackage<T>(name, {
    deployer: 'aws-ec2',
    what: 'AWS SDK package',
    install: 'npm install @aws-sdk/client-ec2 @aws-sdk/client-elastic-load-balancing-v2',
  });
}

/**
 * Credentials come from the SDK's default chain (env, shared config/SSO, web identity, instance role).
 * `maxAttempts` defaults to 1: bp's engine retries a failed verb with backoff, so SDK retries
 * would multiply the calls (docs/deployers/aws-ec2.md, Provider calls).
 */
export async function createClients(config: AwsEc2Config): Promise<AwsClients> {
  const ec2Sdk = await importSdk<Ec2Module>('@aws-sdk/client-ec2');
  const elbSdk = await importSdk<ElbModule>('@aws-sdk/client-elastic-load-balancing-v2');
  const common = {
    region: config.region,
    maxAttempts: config.max_attempts,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  };
  return { ec2Sdk, elbSdk, ec2: new ec2Sdk.EC2Client(common), elb: new elbSdk.ElasticLoadBalancingV2Client(common) };
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'EC2ThrottledException',
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
  'InvalidInstanceID.NotFound',
  'ResourceInUse',
  'InsufficientInstanceCapacity',
  'PriorityInUse',
  'Unavailable',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'RequestExpired',
  'InsufficientCapacity',
  'InsufficientAddressCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'ConcurrentTagAccess',
  'IncorrectInstanceState',
  'DependencyViolation',
]);
const TOKEN_REUSE = new Set(['IdempotentParameterMismatch', 'IdempotentInstanceTerminated']);
const QUOTAS = new Set([
  'VcpuLimitExceeded',
  'InstanceLimitExceeded',
  'TooManyRules',
  'TooManyTargetGroups',
  'TooManyTargets',
  'TooManyTags',
  'TooManyActions',
  'TooManyUniqueTargetGroupsPerLoadBalancer',
  'MaxSpotInstanceCountExceeded',
]);
const PERMISSIONS = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'AccessDenied',
  'AccessDeniedException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'MissingAuthenticationToken',
  'OptInRequired',
]);

/** The service's error code: EC2 names errors by code, ELBv2 models add an `Exception` suffix. */
export function awsErrorCode(e: unknown): string {
  const err = e as { Code?: unknown; name?: unknown } | null;
  const raw = typeof err?.Code === 'string' ? err.Code : typeof err?.name === 'string' ? err.name : 'Error';
  return raw.endsWith('Exception') && !THROTTLING.has(raw) && !PERMISSIONS.has(raw)
    ? raw.slice(0, -'Exception'.length)
    : raw;
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Reads an SDK error into the kit's failure shape. */
export const classifyAws: Classifier = (e) => {
  const code = awsErrorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  const status = statusOf(e) ?? 0;
  const kind: FailureKind = THROTTLING.has(code)
    ? 'throttled'
    : QUOTAS.has(code)
      ? 'quota'
      : PERMISSIONS.has(code)
        ? 'auth'
        : // A client token reused for another or a finished launch: the same call can never succeed.
          TOKEN_REUSE.has(code)
          ? 'rejected'
          : // No HTTP status at all: the request never got an answer (DNS, refused connection, timeout).
            TRANSIENT.has(code) || status >= 500 || status === 0
            ? 'retryable'
            : /NotFound$/.test(code)
              ? 'not-found'
              : 'rejected';
  return { kind, status, code, message };
};

const HINTS: Partial<Record<FailureKind, string>> = {
  throttled: ' (throttled; bp retries with backoff)',
  quota: ' (a service quota is reached: free capacity or request an increase in Service Quotas)',
  auth: ' (check the credentials and the IAM permissions listed in docs/deployers/aws-ec2.md)',
};

function describe(f: ProviderFailure, operation: string): string {
  const hint = TOKEN_REUSE.has(f.code)
    ? ' (a RunInstances client token was reused for another launch; this is a bp bug, please report it)'
    : f.status === 0 && f.kind === 'retryable'
      ? ' (no answer from AWS)'
      : (HINTS[f.kind] ?? '');
  return `AWS ${operation} failed: ${f.code}: ${f.message}${hint}`;
}

const calls = providerCalls(classifyAws, describe);

/** Maps any failure of an operation to a BpError an operator can act on; keeps bp's own errors. */
export const toProviderError = calls.error;

/** Runs one SDK call once and translates its failure (the engine retries, not the SDK; see createClients). */
export const aws = calls.call;
