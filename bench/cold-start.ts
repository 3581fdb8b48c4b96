/**
 * CLI cold start: `bp --version` and `bp plan examples/env.yaml --refresh=false` against
 * `node -e 0`, the floor of any Node CLI. Median of N runs each, interleaved so machine load
 * hits all three alike; wall time and CPU time (user+sys, less sensitive to other load).
 *
 *   npx tsx bench/cold-start.ts [RUNS=20]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 20);
const state = mkdtempSync(join(tmpdir(), 'bp-cold-'));

const commands: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'bp --version': [join(root, 'bin', 'bp'), '--version'],
  'bp plan examples/env.yaml': [
    join(root, 'bin', 'bp'),
    'plan',
    join(root, 'examples', 'env.yaml'),
    '--refresh=false',
    '--state-dir',
    state,
  ],
};

/** Wall and CPU milliseconds of one run, CPU from /usr/bin/time's user+sys. */
function once(args: string[]): { wall: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: (user + sys) * 1000 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = new Map(Object.keys(commands).map((k) => [k, { wall: [] as number[], cpu: [] as number[] }]));
for (const args of Object.values(commands)) once(args); // warm the page cache
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(commands)) {
    const s = once(args);
    samples.get(name)!.wall.push(s.wall);
    samples.get(name)!.cpu.push(s.cpu);
  }
}
rmSync(state, { recursive: true, force: true });

const floor = samples.get('node -e 0')!;
console.log(`node ${process.version}, median of ${runs} runs`);
console.log('| command | wall ms | x node -e 0 | CPU ms | x node -e 0 |');
console.log('|---|---|---|---|---|');
for (const [name, s] of samples) {
  const w = median(s.wall);
  const c = median(s.cpu);
  console.log(
    `| ${name} | ${w.toFixed(0)} | ${(w / median(floor.wall)).toFixed(2)} | ${c.toFixed(0)} | ${(c / Math.max(1, median(floor.cpu))).toFixed(2)} |`,
  );
}
