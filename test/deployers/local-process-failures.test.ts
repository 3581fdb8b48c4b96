/**
 * The local-process deployer's refusals and failure paths: preconditions rejected before
 * any side effect, failing health checks and aborts that leave no process behind, and
 * process identity that a reused pid cannot fool.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeployerEnvironment } from '../../src/model/deployer.js';
import {
  deployment,
  environment,
  freePort,
  killAll,
  newDeployer,
  newStateDir,
  opts,
  pidAlive,
  recordedPids,
  revision,
} from './local-process-fixtures.js';

const stateDirs: string[] = [];
function stateDir(): string {
  const d = newStateDir();
  stateDirs.push(d);
  return d;
}

afterAll(() => {
  for (const d of stateDirs) killAll(recordedPids(d));
});

/** Pids of live processes whose environment carries `marker` (what a test started). */
function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker) && pidAlive(Number(entry)))
        found.push(Number(entry));
    } catch {
      /* gone or not ours */
    }
  }
  return found;
}

function single(rev = revision('r1'), listen: string | null = '127.0.0.1:1'): DeployerEnvironment {
  return environment([deployment('web', listen, [rev], [{ revision_id: rev.revision_id, weight_bps: 10000 }])]);
}

describe('local-process preconditions', () => {
  it('rejects an unknown revision with RevisionNotFound for every verb, before touching anything', async () => {
    const dir = stateDir();
    const d = await newDeployer(dir);
    for (const verb of ['stageRevision', 'warmRevision', 'drainRevision', 'archiveRevision'] as const) {
      await expect(d[verb](single(), 'nope', opts())).rejects.toMatchObject({ code: 'RevisionNotFound' });
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects missing and invalid splits, and a deployment without listen', async () => {
    const d = await newDeployer(stateDir());
    const env = single();
    await expect(d.applyTrafficSplit(env, 'other', opts())).rejects.toMatchObject({ code: 'SplitNotFound' });
    env.deployments[0].traffic = [{ revision_id: 'r1', weight_bps: 9000 }];
    await expect(d.applyTrafficSplit(env, 'web', opts())).rejects.toMatchObject({
      code: 'InvalidSplit',
      message: expect.stringMatching(/9000/),
    });
    await expect(d.applyTrafficSplit(single(revision('r1'), null), 'web', opts())).rejects.toMatchObject({
      code: 'Provider',
      retryable: false,
      message: expect.stringMatching(/listen/),
    });
  });

  it('refuses to route traffic to a revision that is not running', async () => {
    const d = await newDeployer(stateDir());
    await expect(d.applyTrafficSplit(single(), 'web', opts())).rejects.toMatchObject({
      code: 'Provider',
      message: expect.stringMatching(/no running replica; warm it first/),
    });
  });

  it('stage names what is wrong with the artifact', async () => {
    const d = await newDeployer(stateDir());
    const image = revision('r1', { artifact: { image: 'nginx:1', env: {} } });
    await expect(d.stageRevision(single(image), 'r1', opts())).rejects.toMatchObject({
      code: 'Provider',
      message: expect.stringMatching(/image/),
    });
    const noCwd = revision('r1', { artifact: { command: ['node', 'x.mjs'], cwd: 'missing-dir', env: {} } });
    await expect(d.stageRevision(single(noCwd), 'r1', opts())).rejects.toThrow(
      /working directory .*missing-dir does not exist/,
    );
    const noCmd = revision('r1', { artifact: { command: ['no-such-binary-bp'], env: {} } });
    await expect(d.stageRevision(single(noCmd), 'r1', opts())).rejects.toThrow(/"no-such-binary-bp" is not on PATH/);
  });

  it('honours an already-aborted signal with Aborted and no side effect', async () => {
    const dir = stateDir();
    const d = await newDeployer(dir);
    const ac = new AbortController();
    ac.abort();
    await expect(d.warmRevision(single(), 'r1', { signal: ac.signal })).rejects.toMatchObject({ code: 'Aborted' });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('local-process failures leave nothing running', () => {
  it('a failing health check fails warm with the log tail, and kills what it started', async () => {
    const marker = `BP_TEST_${randomUUID()}`;
    const d = await newDeployer(stateDir());
    const rev = revision('r1', {
      artifact: { command: ['node', 'app/server.mjs'], env: { VERSION: 'sick', [marker]: '1' } },
      resources: { cpu: 0.25, memory_mb: 128, replicas: 2, gpu: 0 },
      health: { http_path: '/not-there', timeout_seconds: 1 },
    });
    const err = await d.warmRevision(single(rev), 'r1', opts()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'Provider', retryable: true });
    expect((err as Error).message).toMatch(/did not answer \/not-there with 2xx within 1s/);
    expect((err as Error).message).toMatch(/sick listening on/);
    expect(processesWithMarker(marker)).toEqual([]);
    expect(await d.observe(single(rev), opts())).toMatchObject({
      revisions: { r1: { present: false, healthy: false } },
    });
  });

  it('a command that crashes at start fails warm at once with its output', async () => {
    const d = await newDeployer(stateDir());
    const rev = revision('r1', {
      artifact: { command: ['node', '-e', 'console.error("boom: missing config"); process.exit(3)'], env: {} },
      health: { http_path: '/healthz', timeout_seconds: 30 },
    });
    const started = Date.now();
    const err = await d.warmRevision(single(rev), 'r1', opts()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'Provider', retryable: false });
    expect((err as Error).message).toMatch(/exited before it became healthy[\s\S]*boom: missing config/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an abort during warm kills what the call started and rejects with Aborted', async () => {
    const marker = `BP_TEST_${randomUUID()}`;
    const d = await newDeployer(stateDir());
    const rev = revision('r1', {
      artifact: { command: ['node', '-e', 'setInterval(() => {}, 1000)'], env: { [marker]: '1' } },
      health: { http_path: '/healthz', timeout_seconds: 30 },
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    await expect(d.warmRevision(single(rev), 'r1', { signal: ac.signal })).rejects.toMatchObject({ code: 'Aborted' });
    expect(processesWithMarker(marker)).toEqual([]);
  });

  it('a router that cannot take its listen address fails applyTrafficSplit with the reason', async () => {
    const dir = stateDir();
    const d = await newDeployer(dir);
    const blocker = (await import('node:net')).createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const env = single(revision('r1'), `127.0.0.1:${port}`);
      await d.warmRevision(env, 'r1', opts());
      await expect(d.applyTrafficSplit(env, 'web', opts())).rejects.toMatchObject({
        code: 'Provider',
        message: expect.stringMatching(/already in use/),
      });
      await d.archiveRevision(env, 'r1', opts());
      expect(recordedPids(dir).filter(pidAlive)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});

describe('process identity', () => {
  it('a recorded pid whose start time differs is not ours: not observed, never signalled', async () => {
    const dir = stateDir();
    const d = await newDeployer(dir);
    mkdirSync(join(dir, 'revisions/r1'), { recursive: true });
    // Our own pid with a wrong start time: exactly what pid reuse looks like.
    writeFileSync(
      join(dir, 'revisions/r1/replicas.json'),
      JSON.stringify([
        {
          pid: process.pid,
          start_time: '1',
          index: 0,
          port: 1,
          url: 'http://127.0.0.1:1',
          command: ['node'],
          started_at: '',
        },
      ]),
    );
    const env = single();
    expect((await d.observe(env, opts())).revisions.r1).toEqual({ present: false, healthy: false });
    await d.archiveRevision(env, 'r1', opts());
    expect(pidAlive(process.pid)).toBe(true);
    expect(existsSync(join(dir, 'revisions/r1'))).toBe(false);
  });
});
