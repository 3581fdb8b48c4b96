/**
 * Per-zone instance type availability, as EC2 judges it (test/fakes/aws/BEHAVIOUR.md, EC2): a
 * type a subnet's Availability Zone does not offer is refused with `Unsupported`, launches
 * nothing, and bp reports it as final (not retried) with EC2's own sentence naming the zones
 * that do offer it.
 */
import { describe, expect, it } from 'vitest';
import { createDeployer, environment, opts, revision, split } from '../fakes/aws/env.js';
import { FAKE_AMI, FAKE_SUBNETS } from '../fakes/aws/server.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';

const { fake } = fakeAwsForSuite({ pageSize: 2 });

async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; retryable?: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

describe('aws-ec2 fake: instance types per Availability Zone', () => {
  it("the fake refuses a type its zone does not offer, and places instances in their subnet's zone", () => {
    const { ec2 } = fake();
    const launch = (subnet: string) =>
      ec2.handle('RunInstances', {
        ImageId: FAKE_AMI,
        MinCount: '1',
        MaxCount: '1',
        InstanceType: 'g5.2xlarge',
        SubnetId: subnet,
      });
    const before = ec2.instances.size;
    expect(() => launch(FAKE_SUBNETS[1])).toThrow(/not supported in your requested Availability Zone \(us-east-1b\)/);
    expect(ec2.instances.size).toBe(before);
    launch(FAKE_SUBNETS[0]);
    const launched = [...ec2.instances.values()].at(-1)!;
    expect(ec2.zoneOf(launched.subnetId)).toBe('us-east-1a');
    ec2.terminateOutOfBand(launched.id);
  });

  it('a warm into a zone without the type fails as final, naming the zone, with no instance launched', async () => {
    const d = await createDeployer(
      fakeConfig(fake(), { subnet_ids: [FAKE_SUBNETS[1]], instance_type: 'g5.2xlarge', max_attempts: 1 }),
    );
    const env = environment('zones', [
      { id: 'gpu', revisions: [revision('gpu-v1')], traffic: split(['gpu-v1', 10000]) },
    ]);
    const running = () => [...fake().ec2.instances.values()].filter((i) => i.terminatedAt === null).length;
    const before = running();
    const e = await rejection(d.warmRevision(env, 'gpu-v1', opts()));
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/g5\.2xlarge.*not supported.*us-east-1b.*us-east-1a/);
    expect(running()).toBe(before);
    await d.archiveRevision(env, 'gpu-v1', opts());
    await d.close();
  }, 60_000);
});
