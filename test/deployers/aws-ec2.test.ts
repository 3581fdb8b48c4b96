/**
 * The aws-ec2 deployer through the real AWS SDK against the EC2 + ELBv2 fake: lifecycle,
 * promotion, drain, archive and drift, judged by what the fake really holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { targetGroupName } from '../../src/deployers/aws-ec2/launch.js';
import type { AwsEc2Deployer } from '../../src/deployers/aws-ec2/deployer.js';
import { createDeployer, environment, opts, recordingLogger, revision, split } from '../fakes/aws/env.js';
import { fakeAwsForSuite, fakeConfig } from '../fakes/aws/setup.js';
import { takeDown } from '../helpers/take-down.js';

const { fake } = fakeAwsForSuite();
const open: AwsEc2Deployer[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  fake().clearFaults();
});

async function deployer(over = {}, logger = recordingLogger()) {
  const d = await createDeployer(fakeConfig(fake(), over), logger);
  open.push(d);
  return d;
}

function instancesOf(revisionId: string, states = ['pending', 'running']) {
  return [...fake().ec2.instances.values()].filter(
    (i) => i.tags['bp:revision'] === revisionId && states.includes(fake().ec2.stateOf(i)),
  );
}

function ruleWeights(deploymentId: string): Record<string, number> {
  const rule = [...fake().elbv2.rules.values()].find((r) => r.tags['bp:deployment'] === deploymentId);
  if (!rule) return {};
  const names = new Map([...fake().elbv2.targetGroups.values()].map((t) => [t.arn, t.tags['bp:revision']]));
  return Object.fromEntries(
    fake()
      .elbv2.forwardTargets(rule)
      .map((t) => [names.get(t.arn), t.weight]),
  );
}

describe('aws-ec2 lifecycle', () => {
  it('stages, warms, splits, promotes, drains, archives and releases the rule', async () => {
    const logger = recordingLogger();
    const d = await deployer({}, logger);
    const v1 = revision('life-v1', {
      resources: { cpu: 0.25, memory_mb: 256, replicas: 2, gpu: 0 },
      artifact: { image: 'registry.example.com/web:1', env: { TOKEN: 's3cret-value' } },
    });
    const v2 = revision('life-v2');
    let env = environment('life', [{ id: 'web', revisions: [v1, v2], traffic: split(['life-v1', 10000]) }]);

    const staged = await d.stageRevision(env, 'life-v1', opts());
    expect(staged.outputs).toMatchObject({
      instance_type: 't3.nano',
      target_group: targetGroupName('life', 'life-v1'),
    });
    expect(fake().actions()).not.toContain('RunInstances');

    const warm = await d.warmRevision(env, 'life-v1', opts());
    expect(warm.endpoint).toBe(`http://${fake().elbv2.dnsName}`);
    const launched = instancesOf('life-v1');
    expect(launched).toHaveLength(2);
    // Spread over both subnets, tagged for observe, started by a script that runs the image.
    expect(new Set(launched.map((i) => i.subnetId)).size).toBe(2);
    expect(launched[0].tags).toMatchObject({
      'bp:environment': 'life',
      'bp:deployment': 'web',
      'bp:revision': 'life-v1',
    });
    expect(launched[0].userData).toContain(
      "docker run -d --restart=always --name bp-life-v1 --env-file /etc/bp/bp-life-v1.env -p 8080:8080 'registry.example.com/web:1'",
    );
    expect(launched[0].userData).toContain('PORT=8080');
    expect(launched[0].userData).toContain('TOKEN=s3cret-value');
    expect(logger.lines.join('\n')).not.toContain('s3cret-value');
    let seen = await d.observe(env, opts());
    expect(seen.revisions['life-v1']).toEqual({ present: true, healthy: true });
    expect(seen.revisions['life-v2']).toEqual({ present: false, healthy: false });
    // Attached at weight 0 so the balancer health-checks it; no traffic yet.
    expect(ruleWeights('web')).toEqual({ 'life-v1': 0 });

    await d.applyTrafficSplit(env, 'web', opts());
    expect(ruleWeights('web')).toEqual({ 'life-v1': 1 });
    await d.warmRevision(env, 'life-v2', opts());
    env = environment('life', [
      { id: 'web', revisions: [v1, v2], traffic: split(['life-v1', 9000], ['life-v2', 1000]) },
    ]);
    const canary = await d.applyTrafficSplit(env, 'web', opts());
    expect(canary).toEqual({
      applied_deployment_id: 'web',
      applied_entries: split(['life-v1', 9000], ['life-v2', 1000]),
    });
    expect(ruleWeights('web')).toEqual({ 'life-v1': 9, 'life-v2': 1 });
    expect((await d.observe(env, opts())).splits.web).toEqual(split(['life-v1', 9000], ['life-v2', 1000]));

    env = environment('life', [{ id: 'web', revisions: [v1, v2], traffic: split(['life-v1', 0], ['life-v2', 10000]) }]);
    await d.applyTrafficSplit(env, 'web', opts());
    expect(ruleWeights('web')).toEqual({ 'life-v1': 0, 'life-v2': 1 });

    // Drain: connection draining with drain_seconds, then out of the rule; instances stay until archive.
    const started = Date.now();
    await d.drainRevision(env, 'life-v1', opts());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const tg1 = [...fake().elbv2.targetGroups.values()].find((t) => t.name === targetGroupName('life', 'life-v1'))!;
    expect(tg1.deregistrationDelaySeconds).toBe(1);
    expect(tg1.targets.size).toBe(0);
    expect(ruleWeights('web')).toEqual({ 'life-v2': 1 });
    seen = await d.observe(env, opts());
    expect(seen.revisions['life-v1']).toEqual({ present: true, healthy: false });
    expect(seen.splits.web).toEqual(split(['life-v2', 10000]));

    await d.archiveRevision(env, 'life-v1', opts());
    expect(instancesOf('life-v1')).toEqual([]);
    expect(instancesOf('life-v1', ['shutting-down', 'terminated'])).toHaveLength(2);
    expect(fake().elbv2.targetGroups.has(tg1.arn)).toBe(false);
    expect((await d.observe(env, opts())).revisions['life-v1']).toEqual({ present: false, healthy: false });
    await d.archiveRevision(env, 'life-v1', opts());

    // Taking the deployment down: archive alone never deletes the rule, so it refuses to take the
    // rule's last target group (changing nothing); bp's path releases the rule first.
    const serving = instancesOf('life-v2').length;
    await expect(d.archiveRevision(env, 'life-v2', opts())).rejects.toMatchObject({ code: 'RoutingNotReleased' });
    expect(instancesOf('life-v2')).toHaveLength(serving);
    expect(ruleWeights('web')).toEqual({ 'life-v2': 1 });
    await takeDown(d, env);
    seen = await d.observe(env, opts());
    expect(seen.splits).toEqual({});
    expect(seen.revisions).toEqual({
      'life-v1': { present: false, healthy: false },
      'life-v2': { present: false, healthy: false },
    });
    expect([...fake().elbv2.rules.values()].filter((r) => r.tags['bp:environment'] === 'life')).toEqual([]);
  });

  it('a second warm launches nothing and keeps the endpoint; ClientToken absorbs a lost RunInstances response', async () => {
    const d = await deployer({ max_attempts: 3 });
    const env = environment('idem', [
      { id: 'api', revisions: [revision('idem-v1', { resources: { cpu: 1, memory_mb: 1024, replicas: 3, gpu: 0 } })] },
    ]);
    const mark = fake().journal.length;
    // The first RunInstances launches, then its answer is lost: the SDK retries with the same token.
    fake().addFault({
      service: 'ec2',
      action: 'RunInstances',
      error: { status: 500, code: 'InternalError' },
      afterHandling: true,
      times: 1,
    });
    const first = await d.warmRevision(env, 'idem-v1', opts());
    expect(instancesOf('idem-v1')).toHaveLength(3);
    const runs = fake()
      .journal.slice(mark)
      .filter((j) => j.action === 'RunInstances');
    // Two subnets: 2 + 1 instances; the first call was answered 500 after launching, then retried.
    expect(runs.map((r) => r.status)).toEqual([500, 200, 200]);
    expect(runs[1].params.ClientToken).toBe(runs[0].params.ClientToken);
    expect(runs[2].params.ClientToken).not.toBe(runs[0].params.ClientToken);
    const before = fake()
      .actions('ec2')
      .filter((a) => a === 'RunInstances').length;
    const again = await d.warmRevision(env, 'idem-v1', opts());
    expect(
      fake()
        .actions('ec2')
        .filter((a) => a === 'RunInstances').length,
    ).toBe(before);
    expect(again.endpoint).toBe(first.endpoint);
    expect(instancesOf('idem-v1')).toHaveLength(3);
    expect(instancesOf('idem-v1')[0].instanceType).toBe('t3.micro');
    await takeDown(d, env);
  });

  it('sees an instance terminated outside bp as drift and replaces it on the next warm', async () => {
    const d = await deployer();
    const env = environment('drift', [
      {
        id: 'web',
        revisions: [revision('drift-v1', { resources: { cpu: 0.25, memory_mb: 256, replicas: 2, gpu: 0 } })],
        traffic: split(['drift-v1', 10000]),
      },
    ]);
    await d.warmRevision(env, 'drift-v1', opts());
    await d.applyTrafficSplit(env, 'web', opts());
    const [lost, kept] = instancesOf('drift-v1');
    fake().ec2.terminateOutOfBand(lost.id);
    expect((await d.observe(env, opts())).revisions['drift-v1']).toEqual({ present: true, healthy: false });

    await d.warmRevision(env, 'drift-v1', opts());
    const now = instancesOf('drift-v1').map((i) => i.id);
    expect(now).toHaveLength(2);
    expect(now).toContain(kept.id);
    expect(now).not.toContain(lost.id);
    const tg = [...fake().elbv2.targetGroups.values()].find((t) => t.name === targetGroupName('drift', 'drift-v1'))!;
    expect(
      [...tg.targets.values()]
        .filter((t) => t.deregisteredAt === null)
        .map((t) => t.id)
        .sort(),
    ).toEqual([...now].sort());
    const seen = await d.observe(env, opts());
    expect(seen.revisions['drift-v1']).toEqual({ present: true, healthy: true });
    expect(seen.splits.web).toEqual(split(['drift-v1', 10000]));

    // Every instance gone: observe reports the revision absent, so bp's planner rebuilds it.
    for (const i of instancesOf('drift-v1')) fake().ec2.terminateOutOfBand(i.id);
    expect((await d.observe(env, opts())).revisions['drift-v1']).toEqual({ present: false, healthy: false });
    await takeDown(d, env);
  });

  it('reports a split ELBv2 cannot express exactly as rounded, and observe agrees', async () => {
    const logger = recordingLogger();
    const d = await deployer({}, logger);
    const revs = [revision('round-v1'), revision('round-v2')];
    const env = environment('round', [
      { id: 'web', revisions: revs, traffic: split(['round-v1', 9999], ['round-v2', 1]) },
    ]);
    await d.warmRevision(env, 'round-v1', opts());
    await d.warmRevision(env, 'round-v2', opts());
    const applied = await d.applyTrafficSplit(env, 'web', opts());
    expect(applied.applied_entries).toEqual(split(['round-v1', 9990], ['round-v2', 10]));
    expect(ruleWeights('web')).toEqual({ 'round-v1': 999, 'round-v2': 1 });
    expect((await d.observe(env, opts())).splits.web).toEqual(applied.applied_entries);
    expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('rounded'))).toBe(true);
    await takeDown(d, env);
  });

  it('routes each deployment by host header or path when configured', async () => {
    const d = await deployer({ host_domain: 'apps.example.com', routes: { admin: { path_patterns: ['/admin/*'] } } });
    const env = environment('routes', [
      { id: 'web', revisions: [revision('routes-w1')] },
      { id: 'admin', revisions: [revision('routes-a1')] },
    ]);
    await Promise.all([d.warmRevision(env, 'routes-w1', opts()), d.warmRevision(env, 'routes-a1', opts())]);
    const conditions = Object.fromEntries(
      [...fake().elbv2.rules.values()]
        .filter((r) => r.tags['bp:environment'] === 'routes')
        .map((r) => [r.tags['bp:deployment'], r.conditions]),
    );
    expect(conditions.web).toEqual([{ Field: 'host-header', HostHeaderConfig: { Values: ['web.apps.example.com'] } }]);
    expect(conditions.admin).toEqual([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/admin/*'] } }]);
    await takeDown(d, env);
  });
});
