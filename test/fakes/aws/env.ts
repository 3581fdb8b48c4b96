/** Small builders of deployer environments for the aws-ec2 tests. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeployerEnvironment, DeployerRevision, Logger } from '../../../src/model/deployer.js';
import { ENVIRONMENT_SCHEMA, type SplitEntry } from '../../../src/model/environment.js';
import plugin from '../../../src/deployers/aws-ec2.js';
import type { AwsEc2Config } from '../../../src/deployers/aws-ec2/config.js';
import type { AwsEc2Deployer } from '../../../src/deployers/aws-ec2/deployer.js';

export function revision(id: string, over: Partial<DeployerRevision> = {}): DeployerRevision {
  return {
    revision_id: id,
    artifact: { image: 'registry.example.com/web:1', env: { GREETING: 'hello' } },
    resources: { cpu: 0.25, memory_mb: 256, replicas: 1, gpu: 0 },
    health: { http_path: '/healthz', timeout_seconds: 2 },
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
  id: string,
  deployments: Array<{ id: string; revisions: DeployerRevision[]; traffic?: SplitEntry[] }>,
): DeployerEnvironment {
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: id,
    deployers: { aws: { type: 'aws-ec2', config: {} } },
    deployments: deployments.map((d) => ({
      deployment_id: d.id,
      deployer: 'aws',
      listen: null,
      revisions: d.revisions,
      traffic: d.traffic ?? [],
    })),
    notifications: [],
    base_dir: tmpdir(),
  };
}

export function split(...pairs: Array<[string, number]>): SplitEntry[] {
  return pairs.map(([revision_id, weight_bps]) => ({ revision_id, weight_bps }));
}

export interface RecordingLogger extends Logger {
  lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export async function createDeployer(
  config: AwsEc2Config,
  logger: Logger = recordingLogger(),
): Promise<AwsEc2Deployer> {
  return (await plugin.create(config, { logger, stateDir: join(tmpdir(), 'bp-aws-ec2-unused') })) as AwsEc2Deployer;
}

export const opts = (): { signal: AbortSignal } => ({ signal: new AbortController().signal });
