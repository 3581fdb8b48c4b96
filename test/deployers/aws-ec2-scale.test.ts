/**
 * Refresh that scales: `observe` of an environment of 1,000 revisions reads paginated lists
 * and makes per-revision calls only for ELBv2 target health (no list form), under a bound on
 * calls in flight. Counted in the fake's request journal; the fake pages every list (5 items).
 */
import { describe, expect, it } from 'vitest';
import { OBSERVE_CONCURRENCY } from '../../src/deployers/kit/bounded.js';
import { targetGroupName } from '../../src/deployers/aws-ec2/launch.js';
import { createDeployer, environment, opts, revision, split } from '../fakes/aws/env.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';
import { FAKE_AMI, FAKE_SUBNETS } from '../fakes/aws/server.js';

const { fake } = fakeAwsForSuite({ pageSize: 5, vcpuLimit: 4000 });
const REVISIONS = 1000;
const PER_DEPLOYMENT = 5;

/** Builds the provider side of the environment directly in the fake (as 1,000 warms would leave it). */
function seed(envId: string, deployments: Array<{ id: string; revisions: string[] }>): void {
  const { ec2, elbv2 } = fake();
  let priority = 1;
  for (const d of deployments) {
    const groups: Array<{ TargetGroupArn: string; Weight: string }> = [];
    for (const [k, rev] of d.revisions.entries()) {
      const tags = [
        ['bp:environment', envId],
        ['bp:deployment', d.id],
        ['bp:revision', rev],
      ].map(([Key, Value]) => ({ Key, Value }));
      const run = ec2.handle('RunInstances', {
        ImageId: FAKE_AMI,
        MinCount: '1',
        MaxCount: '1',
        InstanceType: 't3.nano',
        SubnetId: FAKE_SUBNETS[0],
        TagSpecification: [{ ResourceType: 'instance', Tag: tags }],
      });
      const id = String((run.body as { instancesSet: Array<{ instanceId: string }> }).instancesSet[0].instanceId);
      ec2.instances.get(id)!.launchedAt -= 60_000;
      const tg = elbv2.handle('CreateTargetGroup', {
        Name: targetGroupName(envId, rev),
        Protocol: 'HTTP',
        Port: '8080',
        VpcId: 'vpc-0fa4e000000000001',
        Tags: tags,
      });
      const arn = String(
        (tg.body as Record<string, { TargetGroups: Array<{ TargetGroupArn: string }> }>).CreateTargetGroupResult
          .TargetGroups[0].TargetGroupArn,
      );
      elbv2.handle('RegisterTargets', { TargetGroupArn: arn, Targets: [{ Id: id }] });
      elbv2.targetGroups.get(arn)!.targets.get(id)!.registeredAt -= 60_000;
      groups.push({ TargetGroupArn: arn, Weight: k === 0 ? '1' : '0' });
    }
    elbv2.handle('CreateRule', {
      ListenerArn: elbv2.listenerArn,
      Priority: String(priority++),
      Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-BP-Deployment', Values: [d.id] } }],
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: groups } }],
      Tags: [
        { Key: 'bp:environment', Value: envId },
        { Key: 'bp:deployment', Value: d.id },
      ],
    });
  }
}

describe('aws-ec2 observe at scale', () => {
  it('observes 1,000 revisions with paginated lists and bounded per-revision health calls', async () => {
    fake().elbv2.ruleLimit = 1000;
    const deployments = Array.from({ length: REVISIONS / PER_DEPLOYMENT }, (_, d) => ({
      id: `d${d}`,
      revisions: Array.from({ length: PER_DEPLOYMENT }, (_, r) => `d${d}-r${r}`),
    }));
    seed('big', deployments);
    const env = environment(
      'big',
      deployments.map((d) => ({
        id: d.id,
        revisions: d.revisions.map((r) => revision(r)),
        traffic: split([d.revisions[0], 10000]),
      })),
    );
    const d = await createDeployer(fakeConfig(fake(), { max_attempts: 1 }));
    const mark = fake().journal.length;
    fake().maxInFlight = 0;
    // A little latency per health call, as over a network, makes the calls in flight visible.
    fake().addFault({ service: 'elbv2', action: 'DescribeTargetHealth', latencyMs: 5 });
    const seen = await d.observe(env, opts());
    await d.close();

    expect(Object.values(seen.revisions).filter((r) => r.present && r.healthy)).toHaveLength(REVISIONS);
    expect(seen.splits.d7).toEqual(split(['d7-r0', 10000], ['d7-r1', 0], ['d7-r2', 0], ['d7-r3', 0], ['d7-r4', 0]));
    const calls = fake().journal.slice(mark);
    const count = (action: string) => calls.filter((j) => j.action === action).length;
    const pages = (items: number) => Math.ceil(items / 5);
    const rules = deployments.length;
    const measured = Object.fromEntries(
      ['DescribeInstances', 'DescribeRules', 'DescribeTags', 'DescribeTargetGroups', 'DescribeTargetHealth'].map(
        (a) => [a, count(a)],
      ),
    );
    console.log(
      `aws-ec2 observe of ${REVISIONS} revisions: ${calls.length} calls ${JSON.stringify(measured)}, at most ${fake().maxInFlight} in flight`,
    );
    expect(measured).toEqual({
      DescribeInstances: pages(REVISIONS),
      DescribeRules: pages(rules),
      DescribeTags: Math.ceil(rules / 20),
      DescribeTargetGroups: pages(fake().elbv2.targetGroups.size),
      // The only per-revision call: ELBv2 has no list form of target health.
      DescribeTargetHealth: REVISIONS,
    });
    expect(calls.length).toBe(Object.values(measured).reduce((a, b) => a + b, 0));
    // Per-revision calls run concurrently but bounded (+2: the two listings started together).
    expect(fake().maxInFlight).toBeGreaterThan(1);
    expect(fake().maxInFlight).toBeLessThanOrEqual(OBSERVE_CONCURRENCY + 2);
  }, 120_000);
});
