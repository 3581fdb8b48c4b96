/**
 * The ssh deployer end to end against two real OpenSSH servers on loopback ("hosts" with
 * separate remote dirs and router addresses 127.0.0.2 / 127.0.0.3): stage over SFTP with
 * checksums, warm detached replicas, split 90/10 through the shipped routers, promote,
 * drain, archive, and leave nothing behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshDeployer } from '../../src/deployers/ssh/deployer.js';
import type { DeployerEnvironment } from '../../src/model/deployer.js';
import { binomialTolerance, count, many, request } from '../router/support.js';
import { deployment, environment, isListening, opts, pidAlive, revision } from './local-process-fixtures.js';
import { type Lab, startLab } from './ssh/fixtures.js';
import { freePort } from './ssh/sshd.js';

let lab: Lab;
let deployer: SshDeployer;
let port: number;
let canary: DeployerEnvironment;
let promoted: DeployerEnvironment;
let destroyed: DeployerEnvironment;
const uploads: string[] = [];

const v1 = revision('web-v1', { resources: { cpu: 0.25, memory_mb: 128, replicas: 2, gpu: 0 } });
const v2 = revision('web-v2');

function recordedPids(dir: string): number[] {
  const run = join(dir, 'test', '_run');
  if (!existsSync(run)) return [];
  return readdirSync(run).flatMap((rev) =>
    readdirSync(join(run, rev))
      .filter((f) => f.endsWith('.rec'))
      .map((f) => Number(readFileSync(join(run, rev, f), 'utf8').split(' ')[0])),
  );
}

beforeAll(async () => {
  lab = await startLab(2);
  port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const logger = {
    debug() {},
    warn() {},
    error() {},
    info(m: string) {
      if (m === 'artifact uploaded') uploads.push(m);
    },
  };
  deployer = await lab.deployer(lab.config(), logger);
  const base = lab.appDir();
  canary = environment(
    [
      deployment(
        'web',
        listen,
        [v1, v2],
        [
          { revision_id: 'web-v1', weight_bps: 9000 },
          { revision_id: 'web-v2', weight_bps: 1000 },
        ],
      ),
    ],
    base,
  );
  promoted = environment(
    [deployment('web', listen, [{ ...v1, state: 'archived' }, v2], [{ revision_id: 'web-v2', weight_bps: 10000 }])],
    base,
  );
  destroyed = environment(
    [
      deployment(
        'web',
        listen,
        [
          { ...v1, state: 'archived' },
          { ...v2, state: 'archived' },
        ],
        [],
      ),
    ],
    base,
  );
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

describe('ssh deployer on two hosts', () => {
  it('stages by uploading the working directory to every host, verified, once', async () => {
    const s1 = await deployer.stageRevision(canary, 'web-v1', opts());
    await deployer.stageRevision(canary, 'web-v2', opts());
    expect(uploads).toHaveLength(4);
    expect(s1.outputs?.artifact_sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const dir of lab.remoteDirs) {
      const copy = readFileSync(join(dir, 'test/web-v1/app/server.mjs'), 'utf8');
      expect(copy).toBe(readFileSync(join(canary.base_dir, 'app/server.mjs'), 'utf8'));
      expect(readFileSync(join(dir, 'test/_staged/web-v1'), 'utf8').trim()).toBe(s1.outputs?.artifact_sha256);
    }
    const again = await deployer.stageRevision(canary, 'web-v1', opts());
    expect(again.outputs?.artifact_sha256).toBe(s1.outputs?.artifact_sha256);
    expect(uploads).toHaveLength(4);
  });

  it('warms replicas on every host, healthy through the SSH connection, idempotently', async () => {
    const w1 = await deployer.warmRevision(canary, 'web-v1', opts());
    await deployer.warmRevision(canary, 'web-v2', opts());
    const hosts = w1.outputs?.hosts as Record<string, { pids: number[]; ports: number[] }>;
    expect(Object.keys(hosts)).toHaveLength(2);
    for (const h of Object.values(hosts)) {
      expect(h.pids).toHaveLength(2);
      for (const pid of h.pids) expect(pidAlive(pid)).toBe(true);
    }
    const again = await deployer.warmRevision(canary, 'web-v1', opts());
    expect(again.endpoint).toBe(w1.endpoint);
    expect(again.outputs).toEqual(w1.outputs);
    const seen = await deployer.observe(canary, opts());
    expect(seen.revisions['web-v1']).toEqual({ present: true, healthy: true });
    expect(seen.revisions['web-v2']).toEqual({ present: true, healthy: true });
  });

  it('keeps replicas running after the SSH session that started them is gone', async () => {
    const before = lab.remoteDirs.flatMap(recordedPids);
    await deployer.close();
    for (const pid of before) expect(pidAlive(pid)).toBe(true);
    const seen = await deployer.observe(canary, opts()); // reconnects
    expect(seen.revisions['web-v1']).toEqual({ present: true, healthy: true });
  });

  it('splits 90/10 through the router on each host', async () => {
    const applied = await deployer.applyTrafficSplit(canary, 'web', opts());
    expect(applied).toEqual({ applied_deployment_id: 'web', applied_entries: canary.deployments[0].traffic });
    const n = 500;
    for (const addr of ['127.0.0.2', '127.0.0.3']) {
      const got = count(await many(`http://${addr}:${port}/`, n));
      expect(got['200 hello from web-v1'] + got['200 hello from web-v2']).toBe(n);
      expect(Math.abs(got['200 hello from web-v2'] - n * 0.1)).toBeLessThanOrEqual(binomialTolerance(n, 0.1));
    }
    const seen = await deployer.observe(canary, opts());
    expect(seen.splits.web).toEqual(canary.deployments[0].traffic);
    expect(await deployer.applyTrafficSplit(canary, 'web', opts())).toEqual(applied); // idempotent
  });

  it('promotes v2, drains and archives v1 on every host', async () => {
    await deployer.applyTrafficSplit(promoted, 'web', opts());
    const v1Pids = lab.remoteDirs.flatMap(recordedPids);
    await deployer.drainRevision(promoted, 'web-v1', opts());
    await deployer.drainRevision(promoted, 'web-v1', opts()); // idempotent
    const got = count(await many(`http://127.0.0.2:${port}/`, 50));
    expect(got).toEqual({ '200 hello from web-v2': 50 });
    let seen = await deployer.observe(promoted, opts());
    expect(seen.revisions['web-v1']).toEqual({ present: false, healthy: false });
    expect(seen.splits.web).toEqual([{ revision_id: 'web-v2', weight_bps: 10000 }]);
    await deployer.archiveRevision(promoted, 'web-v1', opts());
    await deployer.archiveRevision(promoted, 'web-v1', opts());
    for (const dir of lab.remoteDirs) {
      expect(existsSync(join(dir, 'test/web-v1'))).toBe(false);
      expect(existsSync(join(dir, 'test/_run/web-v1'))).toBe(false);
    }
    const stillRunning = v1Pids.filter((pid) => pidAlive(pid));
    expect(stillRunning.length).toBe(lab.remoteDirs.flatMap(recordedPids).length); // only v2's remain
    seen = await deployer.observe(promoted, opts());
    expect(seen.revisions['web-v2']).toEqual({ present: true, healthy: true });
  });

  it('destroys: the last revision archived with its routers released leaves nothing running', async () => {
    const pids = lab.remoteDirs.flatMap(recordedPids);
    await deployer.drainRevision(destroyed, 'web-v2', opts());
    // bp's engine releases the routing right before archiving the last revision (docs/design.md#traffic-rules).
    await deployer.releaseRouting!(destroyed, 'web', opts());
    await deployer.archiveRevision(destroyed, 'web-v2', opts());
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    expect(await isListening(port, '127.0.0.2')).toBe(false);
    expect(await isListening(port, '127.0.0.3')).toBe(false);
    const seen = await deployer.observe(destroyed, opts());
    expect(seen).toEqual({
      revisions: { 'web-v1': { present: false, healthy: false }, 'web-v2': { present: false, healthy: false } },
      splits: {},
    });
    for (const dir of lab.remoteDirs) expect(readdirSync(join(dir, 'test/_routers'))).toEqual([]);
    expect((await request(`http://127.0.0.1:${port}/`).catch((e: Error) => ({ body: e.message }))).body).toMatch(
      /ECONNREFUSED/,
    );
  });
});
