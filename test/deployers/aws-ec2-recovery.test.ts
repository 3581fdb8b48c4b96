/**
 * Recovery and limits as EC2 and ELBv2 judge them: a revision that lost every instance is
 * relaunched under a new client token (EC2 keeps spent tokens bound), eventual consistency
 * is waited out, and every limit an env file can reach is refused before anything billable.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsEc2Deployer } from '../../src/deployers/aws-ec2/deployer.js';
import { PRIORITY_WINDOW } from '../../src/deployers/aws-ec2/balancer.js';
import { nextAttempt, targetGroupName } from '../../src/deployers/aws-ec2/launch.js';
import { createDeployer, environment, opts, revision, split } from '../fakes/aws/env.js';
import { takeDown } from '../helpers/take-down.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';

const { fake } = fakeAwsForSuite({ registrationLagMs: 300 });
const open: AwsEc2Deployer[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  fake().clearFaults();
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

const liveOf = (revisionId: string) =>
  [...fake().ec2.instances.values()].filter(
    (i) => i.tags['bp:revision'] === revisionId && ['pending', 'running'].includes(fake().ec2.stateOf(i)),
  );

/** The decision digest of "no live instance, one wanted" (see `nextAttempt`). */
function nextDecision(): string {
  return nextAttempt(undefined, [], 1).tag.split('/')[1];
}

async function untilTerminated(ids: string[]): Promise<void> {
  for (;;) {
    if (ids.every((id) => fake().ec2.stateOf(fake().ec2.instances.get(id)!) === 'terminated')) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('aws-ec2 recovery', () => {
  it('relaunches a revision that lost all its instances under a new client token', async () => {
    const d = await deployer();
    const env = environment('relaunch', [
      { id: 'web', revisions: [revision('relaunch-v1')], traffic: split(['relaunch-v1', 10000]) },
    ]);
    await d.warmRevision(env, 'relaunch-v1', opts());
    const [first] = liveOf('relaunch-v1');
    fake().ec2.terminateOutOfBand(first.id);
    await untilTerminated([first.id]);
    const mark = fake().journal.length;
    await d.warmRevision(env, 'relaunch-v1', opts());
    const [second] = liveOf('relaunch-v1');
    expect(second.id).not.toBe(first.id);
    expect(second.clientToken).not.toBe(first.clientToken);
    expect(
      fake()
        .journal.slice(mark)
        .filter((j) => j.code === 'IdempotentInstanceTerminated'),
    ).toEqual([]);
    // The attempt is recorded on the target group, finished.
    const tg = [...fake().elbv2.targetGroups.values()].find(
      (t) => t.name === targetGroupName('relaunch', 'relaunch-v1'),
    )!;
    expect(tg.tags['bp:launch-attempt']).toBe('2');
    expect((await d.observe(env, opts())).revisions['relaunch-v1']).toEqual({ present: true, healthy: true });
    await d.archiveRevision(env, 'relaunch-v1', opts());
  });

  it('a retried attempt reuses its tokens; a spent token found by EC2 starts the next attempt', async () => {
    const d = await deployer();
    const env = environment('retry', [{ id: 'web', revisions: [revision('retry-v1')] }]);
    // The launch happens but its answer is lost; the step fails and bp will retry it.
    fake().addFault({
      service: 'ec2',
      action: 'RunInstances',
      error: { status: 500, code: 'InternalError' },
      afterHandling: true,
      times: 1,
    });
    // EC2 is eventually consistent: the retry does not see the instance yet (until its RunInstances).
    fake().ec2.listLagMs = 60_000;
    expect(await rejection(d.warmRevision(env, 'retry-v1', opts()))).toMatchObject({ retryable: true });
    const tg = [...fake().elbv2.targetGroups.values()].find((t) => t.name === targetGroupName('retry', 'retry-v1'))!;
    expect(tg.tags['bp:launch-attempt']).toMatch(/^1\//);
    fake().addFault({ service: 'ec2', action: 'RunInstances', times: 1, before: () => (fake().ec2.listLagMs = 0) });
    await d.warmRevision(env, 'retry-v1', opts());
    const runs = fake().journal.filter(
      (j) => j.action === 'RunInstances' && j.params['TagSpecification.1.Tag.4.Value'] === 'retry-v1',
    );
    expect(runs.map((r) => r.status)).toEqual([500, 200]);
    expect(runs[1].params.ClientToken).toBe(runs[0].params.ClientToken);
    const [launched, ...more] = liveOf('retry-v1');
    expect(more).toEqual([]);
    expect(tg.tags['bp:launch-attempt']).toBe('1');

    // The instance dies while a stale record still says attempt 1 runs: EC2 refuses the spent
    // token (IdempotentInstanceTerminated) and bp starts attempt 2 at once.
    fake().ec2.terminateOutOfBand(launched.id);
    await untilTerminated([launched.id]);
    tg.tags['bp:launch-attempt'] = `1/${nextDecision()}`;
    await d.warmRevision(env, 'retry-v1', opts());
    expect(fake().journal.some((j) => j.code === 'IdempotentInstanceTerminated')).toBe(true);
    expect(liveOf('retry-v1')).toHaveLength(1);
    expect(tg.tags['bp:launch-attempt']).toBe('2');
    await d.archiveRevision(env, 'retry-v1', opts());
  });

  it('waits out InvalidTarget for just-started instances instead of failing the warm', async () => {
    const d = await deployer();
    const env = environment('lag', [{ id: 'web', revisions: [revision('lag-v1')] }]);
    const mark = fake().journal.length;
    await d.warmRevision(env, 'lag-v1', opts());
    const registers = fake()
      .journal.slice(mark)
      .filter((j) => j.action === 'RegisterTargets');
    expect(registers.some((j) => j.code === 'InvalidTarget')).toBe(true);
    expect(registers.at(-1)!.status).toBe(200);
    await d.archiveRevision(env, 'lag-v1', opts());
  });

  it('reads the shared listener again when another environment deletes its rule mid-read (RuleNotFound)', async () => {
    const other = await deployer();
    const otherEnv = environment('neighbour', [{ id: 'web', revisions: [revision('nb-v1')] }]);
    await other.warmRevision(otherEnv, 'nb-v1', opts());
    const d = await deployer();
    const env = environment('reader', [{ id: 'web', revisions: [revision('rd-v1')] }]);
    const neighbourRule = [...fake().elbv2.rules.values()].find((r) => r.tags['bp:environment'] === 'neighbour')!;
    fake().addFault({
      service: 'elbv2',
      action: 'DescribeTags',
      times: 1,
      before: () => fake().elbv2.rules.delete(neighbourRule.arn),
    });
    const seen = await d.observe(env, opts());
    expect(seen).toEqual({ revisions: { 'rd-v1': { present: false, healthy: false } }, splits: {} });
    expect(fake().journal.some((j) => j.action === 'DescribeTags' && j.code === 'RuleNotFound')).toBe(true);
    await other.archiveRevision(otherEnv, 'nb-v1', opts());
  });
});

describe('aws-ec2 limits before any billable call', () => {
  const billable = (mark: number) =>
    fake()
      .journal.slice(mark)
      .filter((j) => ['RunInstances', 'CreateTargetGroup', 'CreateRule'].includes(j.action));

  it('refuses 4 hosts + 2 paths (5 values per rule) and user data over 16 KB before launching', async () => {
    const d = await deployer({
      routes: {
        web: { host_headers: ['a.example.com', 'b.example.com', 'c.example.com'], path_patterns: ['/x', '/y', '/z'] },
      },
    });
    const env = environment('lim', [{ id: 'web', revisions: [revision('lim-v1')] }]);
    const mark = fake().journal.length;
    const e = await rejection(d.warmRevision(env, 'lim-v1', opts()));
    expect(e).toMatchObject({ code: 'Provider', retryable: false });
    expect(e.message).toContain('6 values together; an ALB rule takes at most 5');
    expect(await rejection(d.stageRevision(env, 'lim-v1', opts()))).toMatchObject({ code: 'Provider' });

    const d2 = await deployer();
    const big = environment('lim', [
      {
        id: 'web',
        revisions: [revision('lim-v2', { artifact: { image: 'r.example.com/x:1', env: { BLOB: 'x'.repeat(17000) } } })],
      },
    ]);
    const e2 = await rejection(d2.warmRevision(big, 'lim-v2', opts()));
    expect(e2.message).toContain('EC2 user data takes at most 16384 bytes');
    expect(fake().journal.length).toBe(mark);
  });

  it('refuses a 6th revision in one forward action before creating anything for it', async () => {
    const d = await deployer();
    const revs = Array.from({ length: 6 }, (_, k) => revision(`six-v${k + 1}`));
    const env = environment('six', [{ id: 'web', revisions: revs }]);
    for (const r of revs.slice(0, 5)) await d.warmRevision(env, r.revision_id, opts());
    const mark = fake().journal.length;
    const e = await rejection(d.warmRevision(env, 'six-v6', opts()));
    expect(e.message).toContain('at most 5 target groups');
    expect(billable(mark)).toEqual([]);
    expect(liveOf('six-v6')).toEqual([]);
    await takeDown(d, env, undefined, { parallel: true });
  });

  it('keeps rule priorities under the 50,000 ceiling when probing past taken ones', async () => {
    const base = 45000;
    const hashOf = (dep: string) => parseInt(createHash('sha256').update(`ceil\0${dep}`).digest('hex').slice(0, 8), 16);
    let dep = '';
    for (let k = 0; !dep; k++) if (hashOf(`d${k}`) % PRIORITY_WINDOW === PRIORITY_WINDOW - 1) dep = `d${k}`;
    const blocker = await deployer({
      rule_priority_base: base,
      routes: { [dep]: { host_headers: ['blocker.example.com'] } },
    });
    // Another rule holds the top priority this deployment hashes to.
    const taken = environment('ceil-other', [{ id: 'x', revisions: [revision('ceil-x')] }]);
    await blocker.warmRevision(taken, 'ceil-x', opts());
    const rule = [...fake().elbv2.rules.values()].find((r) => r.tags['bp:environment'] === 'ceil-other')!;
    rule.priority = String(base + PRIORITY_WINDOW - 1);
    const d = await deployer({ rule_priority_base: base });
    const env = environment('ceil', [{ id: dep, revisions: [revision('ceil-v1')] }]);
    await d.warmRevision(env, 'ceil-v1', opts());
    const mine = [...fake().elbv2.rules.values()].find((r) => r.tags['bp:environment'] === 'ceil')!;
    expect(Number(mine.priority)).toBe(base);
    await takeDown(d, env);
    await takeDown(blocker, taken);
  });

  it('rules follow a changed host_domain', async () => {
    const env = environment('conv', [
      { id: 'web', revisions: [revision('conv-v1')], traffic: split(['conv-v1', 10000]) },
    ]);
    const d = await deployer({ host_domain: 'old.example.com' });
    await d.warmRevision(env, 'conv-v1', opts());
    await d.applyTrafficSplit(env, 'web', opts());
    const d2 = await deployer({ host_domain: 'new.example.com' });
    await d2.applyTrafficSplit(env, 'web', opts());
    const rule = [...fake().elbv2.rules.values()].find((r) => r.tags['bp:environment'] === 'conv')!;
    expect(rule.conditions).toEqual([{ Field: 'host-header', HostHeaderConfig: { Values: ['web.new.example.com'] } }]);
    await takeDown(d2, env);
  });
});

describe('aws-ec2 private images', () => {
  it('logs in to ECR through the instance profile before docker run, and only for ECR images', async () => {
    const { userData, ecrRegistry } = await import('../../src/deployers/aws-ec2/launch.js');
    const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web:1';
    expect(ecrRegistry(image)).toEqual({ host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', region: 'eu-west-1' });
    expect(ecrRegistry('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web:1')?.region).toBe('cn-north-1');
    const script = userData(revision('ecr-v1', { artifact: { image, env: {} } }), 8080);
    const login = script.indexOf(
      "aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin '123456789012.dkr.ecr.eu-west-1.amazonaws.com'",
    );
    expect(login).toBeGreaterThan(0);
    expect(login).toBeLessThan(script.indexOf('docker run'));
    expect(script).not.toMatch(/AWS_SECRET|aws_secret/i);
    expect(userData(revision('pub-v1'), 8080)).not.toContain('docker login');
  });
});
