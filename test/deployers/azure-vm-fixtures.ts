/**
 * Shared set-up for the azure-vm tests: a fake Resource Manager over HTTPS with a throwaway
 * certificate, the real Azure SDKs pointed at it through the deployer's `endpoint` and
 * `ca_file`, a bearer token from the environment (credential type access-token), and small
 * environment builders.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { DeployerEnvironment, DeployerRevision } from '../../src/model/deployer.js';
import { ENVIRONMENT_SCHEMA, type SplitEntry } from '../../src/model/environment.js';
import type { AzureVmConfig } from '../../src/deployers/azure-vm/config.js';
import {
  FAKE_LOCATION,
  FAKE_RESOURCE_GROUP,
  FAKE_SUBSCRIPTION,
  FakeArm,
  type FakeArmOptions,
} from '../fakes/azure/server.js';

export const TOKEN_ENV = 'BP_TEST_AZURE_TOKEN';

export async function startFake(opts: FakeArmOptions = {}): Promise<FakeArm> {
  const fake = await new FakeArm(opts).start();
  process.env[TOKEN_ENV] = fake.issueToken();
  return fake;
}

export const FIXTURE_IDENTITY = `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${FAKE_RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bp-web`;

export function fakeConfig(fake: FakeArm, over: Partial<AzureVmConfig> = {}): AzureVmConfig {
  return {
    subscription_id: FAKE_SUBSCRIPTION,
    resource_group: FAKE_RESOURCE_GROUP,
    location: FAKE_LOCATION,
    subnet_id: fake.subnetId,
    endpoint: fake.endpoint,
    ca_file: fake.caFile,
    credential: { type: 'access-token', token_env: TOKEN_ENV },
    // The VMs' identity: they log in to the (private) ACR registry of the fixtures with it.
    managed_identity: FIXTURE_IDENTITY,
    boot_grace_seconds: 0,
    poll_interval_ms: 50,
    lro_poll_interval_ms: 20,
    max_retries: 2,
    retry_delay_ms: 50,
    ...over,
  };
}

export function revision(id: string, over: Partial<DeployerRevision> = {}): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image: 'myregistry.azurecr.io/web:1', env: { GREETING: id } },
    resources: { cpu: 0.5, memory_mb: 512, replicas: 2, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 10 },
    drain_seconds: 1,
    ttl: null,
    state: 'ready',
    lifecycle: 'inactive',
    outputs: {},
    endpoint: null,
    ...over,
  };
}

export function environment(
  deployments: Array<{ id: string; revisions: DeployerRevision[]; traffic?: SplitEntry[] }>,
  environmentId = 'azure-test',
): DeployerEnvironment {
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: environmentId,
    deployers: { az: { type: 'azure-vm', config: {} } },
    deployments: deployments.map((d) => ({
      deployment_id: d.id,
      deployer: 'az',
      listen: null,
      revisions: d.revisions,
      traffic: d.traffic ?? [],
    })),
    notifications: [],
    base_dir: process.cwd(),
  };
}

export const opts = (): { signal: AbortSignal } => ({ signal: new AbortController().signal });
export const split = (...pairs: Array<[string, number]>): SplitEntry[] =>
  pairs.map(([revision_id, weight_bps]) => ({ revision_id, weight_bps }));
export const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface ArmReply {
  status: number;
  body: {
    error?: { code: string; message: string; target?: string; details?: Array<{ code: string; message: string }> };
  } & Record<string, unknown>;
}

/** One raw HTTPS request to the fake, as a client without an SDK serializer would send it. */
export function armRequest(
  fake: FakeArm,
  method: string,
  path: string,
  body?: unknown,
  apiVersion = '2024-07-01',
): Promise<ArmReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${fake.endpoint}${path}?api-version=${apiVersion}`,
      {
        method,
        ca: readFileSync(fake.caFile),
        headers: { authorization: `Bearer ${fake.issueToken()}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as ArmReply['body']) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
