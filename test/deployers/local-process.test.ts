/**
 * The local-process deployer end to end, with real processes and sockets: warm two
 * revisions (one with two replicas), split 90/10 through the router, heal a replica
 * killed from outside, promote with a request in flight, destroy and leave nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployer, DeployerEnvironment } from '../../src/model/deployer.js';
import { binomialTolerance, count, many, request } from '../router/support.js';
import {
  deployment,
  environment,
  freePort,
  isListening,
  killAll,
  newDeployer,
  newStateDir,
  opts,
  pidAlive,
  recordedPids,
  revision,
  waitFor,
} from './local-process-fixtures.js';

const stateDir = newStateDir();
const seenPids = new Set<number>();
let port: number;
let deployer: Deployer;
let canary: DeployerEnvironment;
let promoted: DeployerEnvironment;
let destroyed: DeployerEnvironment;

function remember(): void {
  for (const pid of recordedPids(stateDir)) seenPids.add(pid);
}

const v1 = revision('web-v1', { resources: { cpu: 0.25, memory_mb: 128, replicas: 2, gpu: 0 } });
const v2 = revision('web-v2');

beforeAll(async () => {
  port = await freePort();
  const listen = `127.0.0.1:${port}`;
  deployer = await newDeployer(stateDir);
  canary = environment([
    deployment(
      'web',
      listen,
      [v1, v2],
      [
        { revision_id: 'web-v1', weight_bps: 9000 },
        { revision_id: 'web-v2', weight_bps: 1000 },
      ],
    ),
  ]);
  promoted = environment([
    deployment('web', listen, [{ ...v1, state: 'archived' }, v2], [{ revision_id: 'web-v2', weight_bps: 10000 }]),
  ]);
  destroyed = environment([
    deployment(
      'web',
      listen,
      [
        { ...v1, state: 'archived' },
        { ...v2, state: 'archived' },
      ],
      [],
    ),
  ]);
});

afterAll(() => {
  remember();
  killAll(seenPids);
});

describe('local-process deployer', () => {
  it('stages by resolving the command and working directory', async () => {
    const staged = await deployer.stageRevision(canary, 'web-v1', opts());
    expect(staged.outputs).toMatchObject({ command_path: expect.stringMatching(/node/), cwd: canary.base_dir });
  });

  it('warms every replica, healthy, and is idempotent', async () => {
    const w1 = await deployer.warmRevision(canary, 'web-v1', opts());
    const w2 = await deployer.warmRevision(canary, 'web-v2', opts());
    remember();
    const backends = w1.outputs?.backends as string[];
    expect(backends).toHaveLength(2);
    expect(w1.endpoint).toBe(backends[0]);
    for (const url of backends) expect((await request(url)).body).toBe('hello from web-v1\n');
    expect((await request(w2.endpoint as string)).body).toBe('hello from web-v2\n');

    const again = await deployer.warmRevision(canary, 'web-v1', opts());
    expect(again.endpoint).toBe(w1.endpoint);
    expect(again.outputs?.pids).toEqual(w1.outputs?.pids);
    for (const pid of w1.outputs?.pids as number[]) expect(pidAlive(pid)).toBe(true);
  });

  it('routes 2,000 requests 90/10 through the router on listen, as observed from the router', async () => {
    const applied = await deployer.applyTrafficSplit(canary, 'web', opts());
    remember();
    expect(applied).toEqual({ applied_deployment_id: 'web', applied_entries: canary.deployments[0].traffic });
    const n = 2000;
    const got = count(await many(`http://127.0.0.1:${port}/`, n));
    expect(got['200 hello from web-v1'] + got['200 hello from web-v2']).toBe(n);
    expect(Math.abs(got['200 hello from web-v2'] - n * 0.1)).toBeLessThanOrEqual(binomialTolerance(n, 0.1));

    const seen = await deployer.observe(canary, opts());
    expect(seen.splits).toEqual({ web: canary.deployments[0].traffic });
    expect(seen.revisions).toEqual({
      'web-v1': { present: true, healthy: true },
      'web-v2': { present: true, healthy: true },
    });
  });

  it('finds its processes again from a fresh deployer instance and re-applies a split in place', async () => {
    const routerPid = (JSON.parse(readFileSync(join(stateDir, 'routers/web/router.json'), 'utf8')) as { pid: number })
      .pid;
    const restarted = await newDeployer(stateDir);
    expect((await restarted.observe(canary, opts())).splits.web).toEqual(canary.deployments[0].traffic);
    await restarted.applyTrafficSplit(canary, 'web', opts());
    const after = (JSON.parse(readFileSync(join(stateDir, 'routers/web/router.json'), 'utf8')) as { pid: number }).pid;
    expect(after).toBe(routerPid);
  });

  it('shows a replica killed from outside as drift, and the next warm heals it', async () => {
    const pid = (
      JSON.parse(readFileSync(join(stateDir, 'revisions/web-v2/replicas.json'), 'utf8')) as { pid: number }[]
    )[0].pid;
    process.kill(-pid, 'SIGKILL');
    await waitFor(() => !pidAlive(pid));
    const drift = await deployer.observe(canary, opts());
    expect(drift.revisions['web-v2']).toEqual({ present: false, healthy: false });
    expect(drift.revisions['web-v1']).toEqual({ present: true, healthy: true });

    const healed = await deployer.warmRevision(canary, 'web-v2', opts());
    remember();
    expect(healed.outputs?.pids).not.toContain(pid);
    expect((await deployer.observe(canary, opts())).revisions['web-v2']).toEqual({ present: true, healthy: true });
    // Traffic reaches the healed revision through the router at once, not after the next probe.
    expect(await many(`http://127.0.0.1:${port}/`, 20, 2)).toContain('200 hello from web-v2');
  });

  it('promotes with requests in flight: they complete, then the old revision is drained and archived', async () => {
    const v1pids = (
      JSON.parse(readFileSync(join(stateDir, 'revisions/web-v1/replicas.json'), 'utf8')) as { pid: number }[]
    ).map((r) => r.pid);
    const slow = Array.from({ length: 10 }, () => request(`http://127.0.0.1:${port}/slow?ms=1500`));
    await new Promise((r) => setTimeout(r, 300));
    await deployer.applyTrafficSplit(promoted, 'web', opts());
    const drained = Date.now();
    await deployer.drainRevision(promoted, 'web-v1', opts());
    const replies = await Promise.all(slow);
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies.filter((r) => r.body.includes('from web-v1')).length).toBeGreaterThanOrEqual(8);
    // The drain waited for those requests (~1.2s left) rather than cutting them off.
    expect(Date.now() - drained).toBeGreaterThan(800);
    for (const pid of v1pids) expect(pidAlive(pid)).toBe(false);

    await deployer.archiveRevision(promoted, 'web-v1', opts());
    await deployer.archiveRevision(promoted, 'web-v1', opts());
    expect(existsSync(join(stateDir, 'revisions/web-v1'))).toBe(false);
    expect(count(await many(`http://127.0.0.1:${port}/`, 50, 4))).toEqual({ '200 hello from web-v2': 50 });
    const seen = await deployer.observe(promoted, opts());
    expect(seen.revisions['web-v1']).toEqual({ present: false, healthy: false });
    expect(seen.splits.web).toEqual([{ revision_id: 'web-v2', weight_bps: 10000 }]);
  });

  it('destroy drains and archives everything: no process, no listening port, no files', async () => {
    remember();
    await deployer.drainRevision(destroyed, 'web-v2', opts());
    await deployer.archiveRevision(destroyed, 'web-v2', opts());
    // bp's engine releases the routing right before archiving the last revision (docs/design.md#traffic-rules).
    await deployer.releaseRouting!(destroyed, 'web', opts());
    await deployer.archiveRevision(destroyed, 'web-v1', opts());
    await deployer.drainRevision(destroyed, 'web-v2', opts());
    await deployer.archiveRevision(destroyed, 'web-v2', opts());
    expect([...seenPids].filter(pidAlive)).toEqual([]);
    expect(await isListening(port)).toBe(false);
    expect(existsSync(join(stateDir, 'routers/web'))).toBe(false);
    expect(await deployer.observe(destroyed, opts())).toEqual({
      revisions: { 'web-v1': { present: false, healthy: false }, 'web-v2': { present: false, healthy: false } },
      splits: {},
    });
  });
});
