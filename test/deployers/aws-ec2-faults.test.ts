/**
 * Provider failures through the real SDK: throttling and 5xx are retryable, quotas and bad
 * credentials are not, a half-done warm is finished by the next one, and archive cleans up
 * after any of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { importSdk } from '../../src/deployers/aws-ec2/sdk.js';
import type { AwsEc2Deployer } from '../../src/deployers/aws-ec2/deployer.js';
import { createDeployer, environment, opts, revision, split } from '../fakes/aws/env.js';
import { takeDown } from '../helpers/take-down.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';

const { fake } = fakeAwsForSuite();
const open: AwsEc2Deployer[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  fake().clearFaults();
  fake().ec2.vcpuLimit = 1000;
  fake().elbv2.ruleLimit = 100;
});

async function deployer(over = {}) {
  const d = await createDeployer(fakeConfig(fake(), over));
  open.push(d);
  return d;
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

const live = (revisionId: string) =>
  [...fake().ec2.instances.values()].filter(
    (i) => i.tags['bp:revision'] === revisionId && ['pending', 'running'].includes(fake().ec2.stateOf(i)),
  );

describe('aws-ec2 provider faults', () => {
  it('EC2 throttling is a retryable Provider error; the SDK retries it away when allowed', async () => {
    const env = environment('thr', [{ id: 'web', revisions: [revision('thr-v1')] }]);
    fake().addFault({
      service: 'ec2',
      action: 'DescribeInstances',
      error: { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
    });
    const e = await rejection((await deployer()).warmRevision(env, 'thr-v1', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: true });
    expect(e.message).toContain('RequestLimitExceeded');
    expect(e.message).toContain('throttled');
    fake().clearFaults();

    // Two throttled answers, three SDK attempts: the warm goes through.
    fake().addFault({
      service: 'ec2',
      action: 'DescribeInstances',
      error: { status: 503, code: 'RequestLimitExceeded' },
      times: 2,
    });
    const d = await deployer({ max_attempts: 3 });
    await d.warmRevision(env, 'thr-v1', opts());
    expect(fake().journal.filter((j) => j.code === 'RequestLimitExceeded').length).toBeGreaterThanOrEqual(3);
    await d.archiveRevision(env, 'thr-v1', opts());
  });

  it('ELBv2 throttling and 5xx are retryable; a rule quota is not', async () => {
    const env = environment('elb', [{ id: 'web', revisions: [revision('elb-v1')], traffic: split(['elb-v1', 10000]) }]);
    const d = await deployer();
    fake().addFault({
      service: 'elbv2',
      action: 'CreateTargetGroup',
      error: { status: 400, code: 'Throttling', message: 'Rate exceeded' },
      times: 1,
    });
    expect(await rejection(d.warmRevision(env, 'elb-v1', opts()))).toMatchObject({ code: 'Provider', retryable: true });
    fake().addFault({
      service: 'elbv2',
      action: 'DescribeRules',
      error: { status: 503, code: 'ServiceUnavailable' },
      times: 1,
    });
    expect(await rejection(d.warmRevision(env, 'elb-v1', opts()))).toMatchObject({ code: 'Provider', retryable: true });

    fake().elbv2.ruleLimit = fake().elbv2.rules.size;
    const quota = await rejection(d.warmRevision(env, 'elb-v1', opts()));
    expect(quota).toMatchObject({ code: 'Provider', retryable: false });
    expect(quota.message).toContain('TooManyRules');
    expect(quota.message).toContain('quota');
    fake().elbv2.ruleLimit = 100;
    await d.warmRevision(env, 'elb-v1', opts());
    await d.applyTrafficSplit(env, 'web', opts());
    expect((await d.observe(env, opts())).splits.web).toEqual(split(['elb-v1', 10000]));
    await takeDown(d, env);
  });

  it('a vCPU quota hit half way is not retryable; the next warm launches only what is missing', async () => {
    const d = await deployer();
    const env = environment('part', [
      { id: 'web', revisions: [revision('part-v1', { resources: { cpu: 0.5, memory_mb: 256, replicas: 3, gpu: 0 } })] },
    ]);
    // Room for two t3.nano (2 vCPU each): the first subnet's RunInstances (2) fits, the second (1) does not.
    const used = [...fake().ec2.instances.values()].filter((i) => i.terminatedAt === null).length * 2;
    fake().ec2.vcpuLimit = used + 4;
    const e = await rejection(d.warmRevision(env, 'part-v1', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(e.message).toContain('VcpuLimitExceeded');
    expect(live('part-v1')).toHaveLength(2);
    expect((await d.observe(env, opts())).revisions['part-v1']).toEqual({ present: true, healthy: false });

    fake().ec2.vcpuLimit = 1000;
    await d.warmRevision(env, 'part-v1', opts());
    expect(live('part-v1')).toHaveLength(3);
    expect((await d.observe(env, opts())).revisions['part-v1']).toEqual({ present: true, healthy: true });
    await d.archiveRevision(env, 'part-v1', opts());
    expect(live('part-v1')).toEqual([]);
  });

  it('an image that never gets healthy fails warm (not retryable, naming the targets) and archive removes it all', async () => {
    const d = await deployer({ boot_seconds: 0 });
    const env = environment('bad', [
      {
        id: 'web',
        revisions: [
          revision('bad-v1', {
            artifact: { image: 'registry.invalid/none:1', env: {} },
            health: { http_path: '/healthz', timeout_seconds: 1 },
          }),
        ],
      },
    ]);
    const e = await rejection(d.warmRevision(env, 'bad-v1', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(e.message).toMatch(/i-[0-9a-f]+ running\/unhealthy \(Target\.FailedHealthChecks\)/);
    await d.archiveRevision(env, 'bad-v1', opts());
    const seen = await d.observe(env, opts());
    expect(seen).toEqual({ revisions: { 'bad-v1': { present: false, healthy: false } }, splits: {} });
  });

  it('refuses what EC2 cannot run before any call, and bad credentials name IAM', async () => {
    const d = await deployer();
    const before = fake().journal.length;
    const env = environment('pre', [
      {
        id: 'web',
        revisions: [
          revision('pre-v1', { artifact: { command: ['node', 'x.js'], env: {} } }),
          revision('pre-v2', { resources: { cpu: 64, memory_mb: 1, replicas: 1, gpu: 0 } }),
        ],
      },
    ]);
    expect(await rejection(d.stageRevision(env, 'pre-v1', opts()))).toMatchObject({
      code: 'Provider',
      retryable: false,
    });
    const big = await rejection(d.warmRevision(env, 'pre-v2', opts()));
    expect(big.message).toContain('set instance_type');
    expect(await rejection(d.warmRevision(env, 'nope', opts()))).toMatchObject({ code: 'RevisionNotFound' });
    expect(await rejection(d.applyTrafficSplit(env, 'web', opts()))).toMatchObject({ code: 'SplitNotFound' });
    expect(fake().journal.length).toBe(before);

    const key = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = 'AKIAWRONGWRONGWRONG0';
    try {
      const denied = await rejection((await deployer()).observe(env, opts()));
      expect(denied).toMatchObject({ code: 'Provider', retryable: false });
      expect(denied.message).toContain('AuthFailure');
      expect(denied.message).toContain('IAM permissions');
    } finally {
      process.env.AWS_ACCESS_KEY_ID = key;
    }
  });

  it('stops waiting as soon as the signal aborts', async () => {
    const d = await deployer({ boot_seconds: 30 });
    const env = environment('abort', [
      { id: 'web', revisions: [revision('abort-v1', { artifact: { image: 'registry.invalid/none:1', env: {} } })] },
    ]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 800);
    const started = Date.now();
    expect(await rejection(d.warmRevision(env, 'abort-v1', { signal: ac.signal }))).toMatchObject({ code: 'Aborted' });
    expect(Date.now() - started).toBeLessThan(3000);
    await d.archiveRevision(env, 'abort-v1', opts());
  });

  it('a missing SDK package is a PluginLoadError saying what to install', async () => {
    const e = await rejection(importSdk('@aws-sdk/client-does-not-exist'));
    expect(e).toMatchObject({ code: 'PluginLoad' });
    expect(e.message).toContain('npm install @aws-sdk/client-ec2 @aws-sdk/client-elastic-load-balancing-v2');
  });
});
