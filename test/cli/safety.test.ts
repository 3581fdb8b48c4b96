import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { bp, collect, engineEnv, readProvider, spawnBp, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let provider: string;
const run = (args: string[]) => bp(args, { cwd: t.dir });

function slowEnv(latencyMs: number, revisions = 3): string {
  return engineEnv({
    provider,
    deployerConfig: { latency_ms: latencyMs },
    deployments: Array.from({ length: revisions }, (_, i) => ({
      id: `d${i}`,
      revisions: [{ id: `d${i}-v1` }],
      traffic: [[`d${i}-v1`, 10000] as [string, number]],
    })),
  });
}

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

beforeEach(() => {
  t = tempDir();
  provider = join(t.dir, 'provider.json');
});
afterEach(() => t.cleanup());

describe('locking', () => {
  it('a second writer fails at once naming the holder; --lock-timeout waits instead', async () => {
    writeFile(join(t.dir, 'env.yaml'), slowEnv(2500, 2));
    const first = spawnBp(['apply', 'env.yaml', '--auto-approve', '--parallelism', '1'], { cwd: t.dir });
    const firstDone = collect(first);
    await waitFor(first, /staging/);
    const started = Date.now();
    const second = await run(['apply', 'env.yaml', '--auto-approve']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`locked by .*pid ${first.pid}`));
    expect(second.stderr).toMatch(/bp state unlock demo [0-9a-f-]{36}/);
    const waiting = await run(['apply', 'env.yaml', '--auto-approve', '--lock-timeout', '60s']);
    expect(waiting.code).toBe(0);
    expect((await firstDone).code).toBe(0);
  });

  it('recognises the lock of a killed holder and takes it over with a warning', async () => {
    writeFile(join(t.dir, 'env.yaml'), slowEnv(2000, 1));
    const first = spawnBp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir });
    const done = collect(first);
    await waitFor(first, /staging/);
    first.kill('SIGKILL');
    await done;
    writeFile(join(t.dir, 'env.yaml'), slowEnv(0, 1));
    const r = await run(['apply', 'env.yaml', '--auto-approve']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`took over the lock .* dead process ${first.pid}`));
  });

  it('bp state unlock releases a lock only with the right id', async () => {
    writeFile(join(t.dir, 'env.yaml'), slowEnv(4000, 1));
    const first = spawnBp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir });
    const done = collect(first);
    await waitFor(first, /staging/);
    const show = JSON.parse((await run(['state', 'show', 'demo', '--json'])).stdout);
    expect(show.lock.pid).toBe(first.pid);
    const wrong = await run(['state', 'unlock', 'demo', 'not-the-id']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(show.lock.id);
    // The holder is alive on this host: the right id alone is refused, naming the holder.
    const live = await run(['state', 'unlock', 'demo', show.lock.id]);
    expect(live.code).toBe(1);
    expect(live.stderr).toContain(`pid ${first.pid}`);
    const right = await run(['state', 'unlock', 'demo', show.lock.id, '--force']);
    expect(right.code).toBe(0);
    await done;
  });
});

describe('interrupts', () => {
  it('first SIGINT lets running steps finish, records them, exits 130; the next apply converges', async () => {
    writeFile(join(t.dir, 'env.yaml'), slowEnv(600, 4));
    const child = spawnBp(['apply', 'env.yaml', '--auto-approve', '--parallelism', '1'], { cwd: t.dir });
    const done = collect(child);
    await waitFor(child, /staging/);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/Interrupt received/);
    expect(r.stdout).toMatch(/interrupted: 1 succeeded/);
    const state = JSON.parse((await run(['state', 'show', 'demo', '--json'])).stdout);
    expect(state.pending).toEqual({});
    expect(
      Object.values(state.revisions).filter((x) => (x as { lifecycle: string }).lifecycle === 'staged'),
    ).toHaveLength(1);
    writeFile(join(t.dir, 'env.yaml'), slowEnv(0, 4));
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    expect((await run(['plan', 'env.yaml', '--detailed-exitcode'])).code).toBe(0);
  });

  it('a second SIGINT stops running steps at once and leaves state consistent', async () => {
    writeFile(join(t.dir, 'env.yaml'), slowEnv(30_000, 1));
    const child = spawnBp(['apply', 'env.yaml', '--auto-approve'], { cwd: t.dir });
    const done = collect(child);
    await waitFor(child, /staging/);
    const started = Date.now();
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    const r = await done;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(130);
    const show = await run(['state', 'show', 'demo', '--json']);
    expect(show.code).toBe(0);
    writeFile(join(t.dir, 'env.yaml'), slowEnv(0, 1));
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    expect((await run(['plan', 'env.yaml', '--detailed-exitcode'])).code).toBe(0);
  });
});

describe('kill -9 at random points', () => {
  it('every trial converges on the next apply with nothing duplicated', async () => {
    const trials = Number(process.env.BP_CRASH_TRIALS ?? 12);
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < trials; trial++) {
      const dir = tempDir('bp-crash-');
      try {
        const prov = join(dir.dir, 'provider.json');
        const env = (latency: number) =>
          engineEnv({
            provider: prov,
            deployerConfig: { latency_ms: latency },
            deployments: [
              {
                id: 'web',
                revisions: [{ id: 'web-v1' }, { id: 'web-v2' }],
                traffic: [
                  ['web-v1', 5000],
                  ['web-v2', 5000],
                ],
              },
              { id: 'api', revisions: [{ id: 'api-v1' }], traffic: [['api-v1', 10000]] },
            ],
          });
        writeFile(join(dir.dir, 'env.yaml'), env(60));
        const child = spawnBp(['apply', 'env.yaml', '--auto-approve', '--parallelism', '2'], { cwd: dir.dir });
        const done = collect(child);
        // Kill after a random number of progress lines (0..16) plus a random delay, so the kill
        // points spread over lock, begin, every verb and the final checkpoint.
        const killAfterLines = Math.floor(random() * 17);
        await new Promise<void>((resolve) => {
          let lines = 0;
          const check = () => lines >= killAfterLines && resolve();
          child.stdout!.on('data', (d: Buffer) => {
            lines += String(d)
              .split('\n')
              .filter((l) => /^(web|api)/.test(l)).length;
            check();
          });
          child.on('close', () => resolve());
          check();
        });
        await new Promise((r) => setTimeout(r, Math.floor(random() * 80)));
        child.kill('SIGKILL');
        await done;
        writeFile(join(dir.dir, 'env.yaml'), env(0));
        const again = await bp(['apply', 'env.yaml', '--auto-approve', '--lock-timeout', '10s'], { cwd: dir.dir });
        expect(again.code, `trial ${trial}: ${again.stdout}${again.stderr}`).toBe(0);
        const plan = await bp(['plan', 'env.yaml', '--detailed-exitcode'], { cwd: dir.dir });
        expect(plan.code, `trial ${trial}: ${plan.stdout}`).toBe(0);
        const p = readProvider(prov);
        for (const id of ['web-v1', 'web-v2', 'api-v1'])
          expect(p.revisions[id]?.instances, `trial ${trial} ${id}`).toBe(1);
      } finally {
        dir.cleanup();
      }
    }
  });
});

describe('errors are one clear sentence', () => {
  it('a missing file, an unknown command flag and invalid input never print a stack trace', async () => {
    const missing = await run(['plan', 'nope.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.yaml/);
    const badFlag = await run(['plan', 'x.yaml', '--frobnicate']);
    expect(badFlag.code).not.toBe(0);
    writeFile(join(t.dir, 'bad.yaml'), 'schema: bp.environment/v1\nenvironment_id: demo\nbogus: 1\n');
    const invalid = await run(['validate', 'bad.yaml']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^bad\.yaml:\d+:\d+: /m);
    for (const r of [missing, badFlag, invalid]) expect(r.stderr).not.toMatch(/\n\s+at .*\(/);
  });
});
