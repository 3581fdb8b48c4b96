/**
 * Real `bp apply` processes sharing one environment through PostgreSQL: one writer at a
 * time, serials that only go up, no lost update, and a lock that dies with its holder.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bp, collect, engineEnv, readProvider, spawnBp, tempDir, writeFile, type RunResult } from '../helpers/cli.js';
import { startCluster, type Cluster } from './pg/cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

let t: ReturnType<typeof tempDir>;
let url: string;
let provider: string;
beforeEach(async () => {
  t = tempDir('bp-pg-cli-');
  provider = join(t.dir, 'provider.json');
  url = await cluster.createDatabase('bp_cli');
});
afterEach(() => t.cleanup());

/** `web` runs only `revision` at 100%; every other revision it ran is drained and archived. */
function envFile(name: string, revision: string, latencyMs: number): string {
  const text = engineEnv({
    provider,
    deployerConfig: { latency_ms: latencyMs },
    deployments: [{ id: 'web', revisions: [{ id: revision }], traffic: [[revision, 10000]] }],
  });
  return writeFile(join(t.dir, name), text);
}

const apply = (file: string, ...flags: string[]) =>
  spawnBp(['apply', file, '--auto-approve', '--backend', url, ...flags], { cwd: t.dir });
const run = (...args: string[]) => bp([...args, '--backend', url], { cwd: t.dir });

/** Resolves once the child has printed a line matching `re`. */
function waitFor(child: ReturnType<typeof spawnBp>, re: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout!.on('data', (d) => {
      seen += d;
      if (re.test(seen)) resolve();
    });
  });
}

/** Samples the environment's serial every few ms until stopped. */
function watchSerial(): { stop(): Promise<number[]> } {
  const client = new pg.Client({
    host: cluster.socketDir,
    port: 5432,
    user: cluster.user,
    database: new URL(url.replace('@/', '@x/')).pathname.slice(1),
  });
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const r = await client
        .query<{ serial: string }>("SELECT serial FROM bp_states WHERE environment_id = 'demo'")
        .catch(() => ({ rows: [] }));
      if (r.rows[0]) seen.push(Number(r.rows[0].serial));
      await new Promise((res) => setTimeout(res, 15));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

describe('bp apply through PostgreSQL', () => {
  it('many concurrent applies on one environment: one writer at a time, serial strictly increasing, no lost update', async () => {
    const waiters = 5;
    const impatient = 2;
    const watcher = watchSerial();
    const children = [
      ...Array.from({ length: waiters }, (_, i) => ({ revision: `web-w${i}`, waits: true })),
      ...Array.from({ length: impatient }, (_, i) => ({ revision: `web-i${i}`, waits: false })),
    ].map((c) => {
      const child = apply(
        envFile(`${c.revision}.yaml`, c.revision, 40),
        ...(c.waits ? ['--lock-timeout', '120s'] : []),
      );
      return { ...c, pid: child.pid!, done: collect(child) };
    });
    const results: RunResult[] = await Promise.all(children.map((c) => c.done));
    const serials = await watcher.stop();

    const winners = children.filter((_, i) => results[i].code === 0);
    children.forEach((c, i) => {
      const r = results[i];
      if (c.waits) expect(r.code, `${c.revision}: ${r.stderr}`).toBe(0);
      // Without --lock-timeout a writer either found the lock free or failed at once, naming the holder.
      else if (r.code !== 0) expect(r.stderr).toMatch(/is locked by .* pid \d+ .*bp state unlock demo [0-9a-f-]{36}/s);
    });

    // One writer at a time: every writer's provider calls form one unbroken run.
    const calls = readProvider(provider).calls as unknown as Array<{ verb: string; key: string; pid: number }>;
    const runs = calls.map((c) => c.pid).filter((pid, i, all) => i === 0 || all[i - 1] !== pid);
    expect(new Set(runs).size).toBe(runs.length);
    expect(runs.sort()).toEqual(winners.map((w) => w.pid).sort());
    for (const w of winners) {
      expect(calls.filter((c) => c.pid === w.pid && c.key === w.revision).map((c) => c.verb)).toEqual([
        'stage',
        'warm',
      ]);
    }

    // Every successful apply wrote exactly one serial, in order, and none was lost.
    const state = JSON.parse((await run('state', 'show', 'demo', '--json')).stdout) as {
      serial: number;
      revisions: Record<string, { lifecycle: string }>;
      deployments: { web: { split: Array<{ revision_id: string }> } };
      lock: unknown;
    };
    expect(state.serial).toBe(winners.length);
    expect(serials.every((s, i) => i === 0 || s >= serials[i - 1])).toBe(true);
    expect(serials.at(-1)).toBe(winners.length);
    expect(Object.keys(state.revisions).sort()).toEqual(winners.map((w) => w.revision).sort());
    const live = Object.entries(state.revisions).filter(([, r]) => r.lifecycle !== 'archived');
    expect(live).toHaveLength(1);
    expect(state.deployments.web.split).toEqual([{ revision_id: live[0][0], weight_bps: 10000 }]);
    expect(state.lock).toBeNull();
  });

  it('a second writer fails at once naming the holder; a holder killed with kill -9 frees the lock for the next apply', async () => {
    const first = apply(envFile('slow.yaml', 'web-v1', 30_000));
    const firstDone = collect(first);
    await waitFor(first, /staging/);
    const started = Date.now();
    const second = await bp(['apply', envFile('fast.yaml', 'web-v1', 0), '--auto-approve', '--backend', url], {
      cwd: t.dir,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`locked by .*pid ${first.pid}`));
    const show = JSON.parse((await run('state', 'show', 'demo', '--json')).stdout) as {
      lock: { pid: number; id: string };
    };
    expect(show.lock.pid).toBe(first.pid);

    first.kill('SIGKILL');
    await firstDone;
    const next = await bp(['apply', 'fast.yaml', '--auto-approve', '--backend', url], { cwd: t.dir });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(new RegExp(`took over the lock .* dead process ${first.pid}`));
    expect((await run('plan', 'fast.yaml', '--detailed-exitcode')).code).toBe(0);
    expect(readProvider(provider).revisions['web-v1']?.instances).toBe(1);
  });

  it("bp state unlock ends the holder's session; the holder can no longer write and the next apply converges", async () => {
    // Slow enough that the holder is still staging when unlocked; it notices at its next write.
    const first = apply(envFile('slow.yaml', 'web-v1', 15_000));
    const firstDone = collect(first);
    await waitFor(first, /staging/);
    const show = JSON.parse((await run('state', 'show', 'demo', '--json')).stdout) as {
      lock: { id: string; pid: number };
    };
    expect(show.lock.pid).toBe(first.pid);
    const live = await run('state', 'unlock', 'demo', show.lock.id);
    expect(live.code).toBe(1);
    expect(live.stderr).toMatch(/held by a live process on this host/);
    const right = await run('state', 'unlock', 'demo', show.lock.id, '--force');
    expect(right.code, right.stderr).toBe(0);
    const killed = await firstDone;
    expect(killed.code).not.toBe(0);
    expect(killed.stdout + killed.stderr).toMatch(/lost the connection holding the lock of environment "demo"/);
    const next = await bp(['apply', envFile('fast.yaml', 'web-v1', 0), '--auto-approve', '--backend', url], {
      cwd: t.dir,
    });
    expect(next.code, next.stderr).toBe(0);
    expect((await run('plan', 'fast.yaml', '--detailed-exitcode')).code).toBe(0);
  });
});
