/** Test set-up shared by the aws-ec2 tests: a started fake, credentials in env, a config. */
import { afterAll, beforeAll } from 'vitest';
import type { AwsEc2Config } from '../../../src/deployers/aws-ec2/config.js';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_AMI,
  FAKE_SECRET_ACCESS_KEY,
  FAKE_SUBNETS,
  FAKE_VPC,
  FakeAws,
  type FakeAwsOptions,
} from './server.js';

/** The SDK's default credential chain reads these first, so no ~/.aws or instance metadata is consulted. */
export function useFakeCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = FAKE_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = FAKE_SECRET_ACCESS_KEY;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

/** Starts a fake for the file's tests and stops it afterwards. */
export function fakeAwsForSuite(opts: FakeAwsOptions = {}): { fake: () => FakeAws } {
  let fake: FakeAws | null = null;
  beforeAll(async () => {
    useFakeCredentials();
    fake = await new FakeAws(opts).start();
  });
  afterAll(async () => {
    await fake?.stop();
  });
  return { fake: () => fake! };
}

/** A deployer config pointing at the fake, with every default filled in as bp's schema check would. */
export function fakeConfig(fake: FakeAws, over: Partial<AwsEc2Config> = {}): AwsEc2Config {
  return {
    region: 'us-east-1',
    endpoint: fake.endpoint,
    listener_arn: fake.elbv2.listenerArn,
    vpc_id: FAKE_VPC,
    subnet_ids: FAKE_SUBNETS,
    ami_id: FAKE_AMI,
    app_port: 8080,
    rule_priority_base: 10000,
    boot_seconds: 2,
    poll_interval_ms: 50,
    max_attempts: 1,
    ...over,
  };
}
