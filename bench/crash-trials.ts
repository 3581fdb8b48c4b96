/**
 * Kill -9 trials of a real `bp apply`: each trial starts an apply of 3 deployments (5
 * revisions, 13 steps, verbs of ~60 ms) and SIGKILLs it at a random point: after 0..16
 * progress lines plus 0..80 ms, which spreads the kills over lock, begin, every verb and the
 * final checkpoint. Then the next apply must converge, plan no changes, have started every
 * revision exactly once, and leave no lock, pending operation or temp file behind.
 *
 *   npx tsx bench/crash-trials.ts [TRIALS=50] [SEED=7]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bp, collect, engineEnv, readProvider, spawnBp, tempDir, writeFile } from '../test/helpers/cli.js';

const trials = Number(process.argv[2] ?? 50);
let seed = Number(process.argv[3] ?? 7);
const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

const deployments = [
  {
    id: 'web',
    revisions: [{ id: 'web-v1' }, { id: 'web-v2' }],
    traffic: [
      ['web-v1', 5000],
      ['web-v2', 5000],
    ] as Array<[string, number]>,
  },
  {
    id: 'api',
    revisions: [{ id: 'api-v1' }, { id: 'api-v2' }],
    traffic: [['api-v1', 10000]] as Array<[string, number]>,
  },
  { id: 'jobs', revisions: [{ id: 'jobs-v1' }], traffic: [['jobs-v1', 10000]] as Array<[string, number]> },
];
const ids = ['web-v1', 'web-v2', 'api-v1', 'api-v2', 'jobs-v1'];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const failures: string[] = [];
const killedDuring = new Map<string, number>();
const started = Date.now();
for (let trial = 0; trial < trials; trial++) {
  const t = tempDir('bp-crash-bench-');
  try {
    const provider = join(t.dir, 'provider.json');
    const env = (latency: number) => engineEnv({ provider, deployerConfig: { latency_ms: latency }, deployments });
    writeFile(join(t.dir, 'env.yaml'), env(60));
    const child = spawnBp(['apply', 'env.yaml', '--auto-approve', '--parallelism', '2'], { cwd: t.dir });
    const done = collect(child);
    const killAfterLines = Math.floor(random() * 17);
    let lastLine = 'before any progress';
    await new Promise<void>((resolve) => {
      let lines = 0;
      const check = (): void => void (lines >= killAfterLines && resolve());
      child.stdout!.on('data', (d: Buffer) => {
        for (const l of String(d)
          .split('\n')
          .filter((x) => /^(web|api|jobs)/.test(x))) {
          lines++;
          lastLine = l.replace(/\(.*$/, '').trim();
        }
        check();
      });
      child.on('close', () => resolve());
      check();
    });
    await new Promise((r) => setTimeout(r, Math.floor(random() * 80)));
    child.kill('SIGKILL');
    const killed = await done;
    const phase =
      killed.signal === 'SIGKILL'
        ? lastLine
            .replace(/^\S+: /, '')
            .split(' ')[0]
            .replace(/\.+$/, '') || 'start'
        : 'finished first';
    killedDuring.set(phase, (killedDuring.get(phase) ?? 0) + 1);

    writeFile(join(t.dir, 'env.yaml'), env(0));
    const again = await bp(['apply', 'env.yaml', '--auto-approve', '--lock-timeout', '10s'], { cwd: t.dir });
    const plan = await bp(['plan', 'env.yaml', '--detailed-exitcode'], { cwd: t.dir });
    const show = await bp(['state', 'show', 'demo', '--json'], { cwd: t.dir });
    const state = show.code === 0 ? JSON.parse(show.stdout) : null;
    const p = readProvider(provider);
    const leftovers = walk(join(t.dir, '.bp')).filter((f) => /\.tmp-|lock\.json/.test(f));
    const problems = [
      again.code !== 0 &&
        `next apply exited ${again.code}: ${again.stderr.trim() || again.stdout.trim().split('\n').pop()}`,
      plan.code !== 0 && `plan after it exited ${plan.code}`,
      state && Object.keys(state.pending).length > 0 && `pending left: ${Object.keys(state.pending).join(', ')}`,
      ...ids
        .filter((id) => p.revisions[id]?.instances !== 1)
        .map((id) => `${id} has ${p.revisions[id]?.instances ?? 0} instances`),
      leftovers.length > 0 && `left behind: ${leftovers.map((f) => f.slice(t.dir.length)).join(', ')}`,
    ].filter(Boolean);
    if (problems.length > 0)
      failures.push(`trial ${trial} (killed after ${killAfterLines} lines, ${phase}): ${problems.join('; ')}`);
    process.stdout.write(problems.length > 0 ? 'F' : '.');
  } finally {
    t.cleanup();
  }
}
process.stdout.write('\n');
console.log(
  `${trials} kill -9 trials in ${((Date.now() - started) / 1000).toFixed(0)} s: ${trials - failures.length} converged, ${failures.length} failed`,
);
console.log(
  `killed during: ${[...killedDuring]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}`,
);
for (const f of failures) console.log(`  ${f}`);
process.exit(failures.length > 0 ? 1 : 0);
