/**
 * aws-ec2 reports live progress from what its polls already read: while warming, instances
 * healthy in the target group and ELBv2's reason for one that is not; while draining, the
 * targets still draining and the time left. Against the EC2 + ELBv2 fake, through the real SDK.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsEc2Deployer } from '../../src/deployers/aws-ec2/deployer.js';
import { createDeployer, environment, revision, split } from '../fakes/aws/env.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';
import { expectCountsReach, expectTimeLeft, progressRecorder } from './progress-fixtures.js';

// Targets stay in initial health checks long enough for a poll to see them there.
const { fake } = fakeAwsForSuite({ healthyAfterMs: 1500 });
let d: AwsEc2Deployer | null = null;
afterEach(async () => {
  await d?.close();
});

describe('aws-ec2 live progress', () => {
  it('warming counts instances healthy in the target group up to 2/2; draining counts down', async () => {
    d = await createDeployer(fakeConfig(fake()));
    const v1 = revision('prog-v1', {
      resources: { cpu: 0.25, memory_mb: 256, replicas: 2, gpu: 0 },
      health: { http_path: '/healthz', timeout_seconds: 10 },
      drain_seconds: 2,
    });
    const env = environment('prog', [{ id: 'web', revisions: [v1], traffic: split(['prog-v1', 10000]) }]);
    const p = progressRecorder();
    await d.warmRevision(env, 'prog-v1', p.opts());
    const last = expectCountsReach(p.seen, 2, 'instances healthy in the target group');
    expect(p.seen[0].waiting_for).toBe('2 instance(s) of "prog-v1" to pass the health checks of their target group');
    // What held an instance back, in ELBv2's (or EC2's) words: booting, registering, initial checks.
    expect(last.length).toBeGreaterThan(0);
    for (const l of last) expect(l).toMatch(/^i-[0-9a-f]+ (pending|not registered yet|Elb\.[A-Za-z]+)$/);
    expect(last.some((l) => /Elb\.InitialHealthChecking|Elb\.RegistrationInProgress/.test(l))).toBe(true);

    await d.applyTrafficSplit(env, 'web', p.opts());
    p.clear();
    await d.drainRevision(env, 'prog-v1', p.opts());
    expectTimeLeft(p.seen, 'the targets of "prog-v1" to finish draining', 2 + 5);
    expect(p.seen[0].status).toMatch(/^2 targets draining, \d+s left$/);
  });

  it('a warm whose health checks fail says so while it waits', async () => {
    d = await createDeployer(fakeConfig(fake(), { boot_seconds: 0 }));
    const bad = revision('prog-bad', {
      artifact: { image: 'registry.invalid/web:1', env: {} },
      health: { http_path: '/healthz', timeout_seconds: 4 },
    });
    const p = progressRecorder();
    await expect(
      d.warmRevision(environment('prog', [{ id: 'api', revisions: [bad] }]), 'prog-bad', p.opts()),
    ).rejects.toThrow(/does not report 1 healthy instance/);
    expect(p.seen.every((s) => s.status === '0/1 instances healthy in the target group')).toBe(true);
    expect(p.seen.at(-1)?.last).toMatch(/^i-[0-9a-f]+ Target\.FailedHealthChecks$/);
  });
});
