/** A revision's EC2 instances: found by tags, launched idempotently, terminated. */
import type { Instance, Tag } from '@aws-sdk/client-ec2';
import { aws, type AwsClients } from './sdk.js';
import { launchToken, revisionTags, TAG_ENVIRONMENT, TAG_REVISION } from './launch.js';

/** States in which an instance exists for billing and for bp ("present"). */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

export interface LiveInstance {
  id: string;
  state: string;
  revisionId: string;
  deploymentId: string;
}

function tag(i: Instance, key: string): string {
  return i.Tags?.find((t: Tag) => t.Key === key)?.Value ?? '';
}

/** Live instances of an environment (optionally one revision), by tags, across all pages. */
export async function findInstances(
  c: AwsClients,
  signal: AbortSignal,
  environmentId: string,
  revisionId?: string,
): Promise<LiveInstance[]> {
  const filters = [
    { Name: `tag:${TAG_ENVIRONMENT}`, Values: [environmentId] },
    { Name: 'instance-state-name', Values: LIVE_STATES },
    ...(revisionId ? [{ Name: `tag:${TAG_REVISION}`, Values: [revisionId] }] : []),
  ];
  const out: LiveInstance[] = [];
  let NextToken: string | undefined;
  do {
    const page = await aws('ec2:DescribeInstances', signal, () =>
      c.ec2.send(new c.ec2Sdk.DescribeInstancesCommand({ Filters: filters, NextToken, MaxResults: 1000 }), {
        abortSignal: signal,
      }),
    );
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        out.push({
          id: i.InstanceId ?? '',
          state: i.State?.Name ?? '',
          revisionId: tag(i, TAG_REVISION),
          deploymentId: tag(i, 'bp:deployment'),
        });
      }
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

export interface LaunchSpec {
  environmentId: string;
  deploymentId: string;
  revisionId: string;
  imageId: string;
  instanceType: string;
  subnetIds: string[];
  securityGroupIds?: string[];
  instanceProfile?: string;
  keyName?: string;
  userData: string;
  /** The launch attempt (see `nextAttempt`): part of every ClientToken. */
  attempt: number;
}

/**
 * Launches `count` more instances spread round robin over the subnets, one RunInstances per
 * subnet, each with a ClientToken of the attempt and subnet (see `launchToken`).
 */
export async function launchInstances(
  c: AwsClients,
  signal: AbortSignal,
  spec: LaunchSpec,
  live: string[],
  count: number,
): Promise<string[]> {
  const perSubnet = new Map<string, number>();
  for (let k = 0; k < count; k++) {
    const subnet = spec.subnetIds[(live.length + k) % spec.subnetIds.length];
    perSubnet.set(subnet, (perSubnet.get(subnet) ?? 0) + 1);
  }
  const launched: string[] = [];
  for (const [subnet, n] of perSubnet) {
    const profile = spec.instanceProfile;
    const out = await aws('ec2:RunInstances', signal, () =>
      c.ec2.send(
        new c.ec2Sdk.RunInstancesCommand({
          ImageId: spec.imageId,
          InstanceType: spec.instanceType as never,
          MinCount: n,
          MaxCount: n,
          SubnetId: subnet,
          SecurityGroupIds: spec.securityGroupIds,
          KeyName: spec.keyName,
          IamInstanceProfile: profile ? (profile.startsWith('arn:') ? { Arn: profile } : { Name: profile }) : undefined,
          UserData: Buffer.from(spec.userData, 'utf8').toString('base64'),
          ClientToken: launchToken(spec.environmentId, spec.revisionId, spec.attempt, n, subnet),
          TagSpecifications: [
            { ResourceType: 'instance', Tags: revisionTags(spec.environmentId, spec.deploymentId, spec.revisionId) },
            { ResourceType: 'volume', Tags: revisionTags(spec.environmentId, spec.deploymentId, spec.revisionId) },
          ],
          MetadataOptions: { HttpTokens: 'required' },
        }),
        { abortSignal: signal },
      ),
    );
    launched.push(...(out.Instances ?? []).map((i: Instance) => i.InstanceId ?? '').filter(Boolean));
  }
  return launched;
}

/** Terminating an instance that is already shutting down or gone is success in EC2 too. */
export async function terminateInstances(c: AwsClients, signal: AbortSignal, ids: string[]): Promise<void> {
  for (let k = 0; k < ids.length; k += 500) {
    const InstanceIds = ids.slice(k, k + 500);
    await aws('ec2:TerminateInstances', signal, () =>
      c.ec2.send(new c.ec2Sdk.TerminateInstancesCommand({ InstanceIds }), { abortSignal: signal }),
    );
  }
}
