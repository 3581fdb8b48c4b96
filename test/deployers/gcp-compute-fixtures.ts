/**
 * Shared set-up for the gcp-compute tests: a fake Compute Engine on a loopback port, the real
 * SDK pointed at it through the deployer's `endpoint` and an `external_account` credentials
 * file (GOOGLE_APPLICATION_CREDENTIALS), and small environment builders.
 */
import type { DeployerEnvironment, DeployerRevision } from '../../src/model/deployer.js';
import { ENVIRONMENT_SCHEMA, type SplitEntry } from '../../src/model/environment.js';
import type { GcpComputeConfig } from '../../src/deployers/gcp-compute/config.js';
import { FakeGce, type FakeGceOptions } from '../fakes/gcp/fake-gce.js';

export const PROJECT = 'bp-test-project';
export const ZONE = 'us-central1-a';

export async function startFake(opts: FakeGceOptions = {}): Promise<FakeGce> {
  const fake = await new FakeGce(opts).start();
  process.env.GOOGLE_APPLICATION_CREDENTIALS = fake.writeCredentials();
  return fake;
}

export function fakeConfig(fake: FakeGce, over: Partial<GcpComputeConfig> = {}): GcpComputeConfig {
  return {
    project: PROJECT,
    zone: ZONE,
    endpoint: fake.endpoint,
    boot_grace_seconds: 0,
    poll_interval_ms: 50,
    operation_timeout_seconds: 30,
    ...over,
  };
}

export function revision(id: string, over: Partial<DeployerRevision> = {}): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image: 'us-docker.pkg.dev/bp-test/app/web:1', env: { GREETING: id } },
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
  deployments: Array<{ id: string; revisions: DeployerRevision[]; traffic?: SplitEntry[]; listen?: string }>,
  environmentId = 'gcp-test',
): DeployerEnvironment {
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: environmentId,
    deployers: { gce: { type: 'gcp-compute', config: {} } },
    deployments: deployments.map((d) => ({
      deployment_id: d.id,
      deployer: 'gce',
      listen: d.listen ?? '0.0.0.0:8080',
      revisions: d.revisions,
      traffic: d.traffic ?? [],
    })),
    notifications: [],
    base_dir: process.cwd(),
  };
}

export const opts = (): { signal: AbortSignal } => ({ signal: new AbortController().signal });
export const zoneScope = `projects/${PROJECT}/zones/${ZONE}`;
export const globalScope = `projects/${PROJECT}/global`;

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}
