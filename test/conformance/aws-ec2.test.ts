import { describe, expect, it } from 'vitest';
import { checkNames, renderHuman } from '../../src/conformance/index.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';
import { bench, namesWith } from './helpers.js';

describe('the aws-ec2 deployer against the EC2 + ELBv2 fake', () => {
  const { fake } = fakeAwsForSuite();

  it('passes the conformance bench through the real AWS SDK', async () => {
    const report = await bench('aws-ec2', {
      config: { ...fakeConfig(fake()) },
      fixture: { artifact: { image: 'bp-fixture:1', env: {} } },
    });
    expect(namesWith(report, 'fail'), renderHuman(report)).toEqual([]);
    expect(report.leaks, renderHuman(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    expect(namesWith(report, 'skip')).toEqual(['runtime-config']);
    // Nothing is left in the fake either: every instance terminated, every group and rule gone.
    expect(fake().elbv2.targetGroups.size).toBe(0);
    expect(fake().elbv2.rules.size).toBe(0);
  }, 300_000);
});
