/**
 * Engine figures: `bp plan` on large environments (time, peak RSS, and the ratio to merely
 * parsing the YAML, the floor), and `bp apply` of no-op steps at growing sizes (per-step
 * overhead including durable state). Times are wall and CPU (user+sys): on a shared machine
 * CPU time is the figure that other load does not inflate.
 *
 *   npx tsx bench/plan-apply.ts [deployments] [revisions-per-deployment]
 *   BP_BENCH_APPLY_STEPS=1000,3000,10000 (default) sets the apply sizes; 0 skips apply.
 *   BP_BENCH_APPLY_PARALLELISM=N passes --parallelism N to those applies (default: bp's own, 10).
 *   BP_BENCH_RUNS=3 (default): plans and floors are measured that many times, interleaved, and
 *   the medians reported, so that other load on a shared machine hits both alike.
 *
 * The floor is js-yaml's `load` of the same text, timed inside a fresh Node process around the
 * call alone (no Node start-up, no file read): what merely parsing the YAML costs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as yamlParse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const bp = join(root, 'bin', 'bp');
const noop = join(root, 'bench', 'noop-deployer.mjs');

function envYaml(deployments: number, revisions: number): string {
  const out = [
    'schema: bp.environment/v1',
    'environment_id: bench',
    'deployers:',
    `  noop: { type: ${JSON.stringify(noop)} }`,
    'deployments:',
  ];
  for (let d = 0; d < deployments; d++) {
    out.push(`  - deployment_id: d${d}`, '    deployer: noop', '    revisions:');
    for (let r = 0; r < revisions; r++) {
      out.push(
        `      - revision_id: d${d}-r${r}`,
        `        artifact: { command: [node, app/server.mjs], env: { VERSION: "r${r}", GREETING: "hello from d${d}" } }`,
        `        resources: { cpu: 0.25, memory_mb: 128, replicas: 1 }`,
        `        health: { http_path: /healthz, timeout_seconds: 30 }`,
        r === 0 ? '        state: ready' : '        state: inactive',
      );
    }
    out.push('    traffic:', `      - { revision_id: d${d}-r0, weight_bps: 10000 }`);
  }
  return out.join('\n') + '\n';
}

/** Runs a command under /usr/bin/time -v; returns wall and CPU seconds and peak RSS in MB. */
function measure(args: string[], cwd: string): { seconds: number; cpu: number; peakMb: number; status: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, bp, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const field = (name: string) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr)?.[1] ?? NaN);
  const cpu = field('User time \\(seconds\\)') + field('System time \\(seconds\\)');
  return { seconds, cpu, peakMb: field('Maximum resident set size \\(kbytes\\)') / 1024, status: r.status ?? -1 };
}

/** Wall and CPU seconds of `fn` in this process. */
function timeIt(fn: () => void): { seconds: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

/** The parse floor: js-yaml loading `file`, timed in a fresh process around the call alone. */
function floorOf(file: string): { seconds: number; cpu: number } {
  const code =
    "import { readFileSync } from 'node:fs'; import jsYaml from 'js-yaml';" +
    'const text = readFileSync(process.argv[1], "utf8"); const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage();' +
    'jsYaml.load(text); const c = process.cpuUsage(c0);' +
    'console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 }));';
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, file], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the floor measurement failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { seconds: number; cpu: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = Math.max(1, Number(process.env.BP_BENCH_RUNS ?? 3));

const sizes: Array<[number, number]> = process.argv[2]
  ? [[Number(process.argv[2]), Number(process.argv[3] ?? 5)]]
  : [
      [200, 5],
      [2000, 5],
      [10000, 5],
    ];

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
for (const [deployments, revisions] of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-'));
  try {
    const file = join(dir, 'env.yaml');
    const text = envYaml(deployments, revisions);
    writeFileSync(file, text);
    const mb = statSync(file).size / 1e6;
    const plans: Array<ReturnType<typeof measure>> = [];
    const floors: Array<{ seconds: number; cpu: number }> = [];
    for (let i = 0; i < runs; i++) {
      floors.push(floorOf(file));
      plans.push(measure(['plan', 'env.yaml', '--json', '--state-dir', join(dir, 'state')], dir));
    }
    const floor = { seconds: median(floors.map((f) => f.seconds)), cpu: median(floors.map((f) => f.cpu)) };
    const plan = {
      seconds: median(plans.map((p) => p.seconds)),
      cpu: median(plans.map((p) => p.cpu)),
      peakMb: Math.max(...plans.map((p) => p.peakMb)),
      status: plans.find((p) => p.status !== 0)?.status ?? 0,
    };
    const yamlS = deployments <= 2000 ? timeIt(() => yamlParse(text)).seconds : NaN;
    console.log(
      `plan ${deployments} deployments x ${revisions} revisions (${deployments * revisions} revisions, ${mb.toFixed(1)} MB), median of ${runs}: ` +
        `${plan.seconds.toFixed(2)} s wall, ${plan.cpu.toFixed(2)} s CPU, peak ${plan.peakMb.toFixed(0)} MB, exit ${plan.status}; ` +
        `parse floor js-yaml ${floor.seconds.toFixed(2)} s wall, ${floor.cpu.toFixed(2)} s CPU ` +
        `(ratio ${(plan.seconds / floor.seconds).toFixed(2)}x wall, ${(plan.cpu / floor.cpu).toFixed(2)}x CPU; ` +
        `per run CPU ${plans.map((p, i) => `${p.cpu.toFixed(2)}/${floors[i].cpu.toFixed(2)}`).join(' ')})` +
        (Number.isNaN(yamlS) ? '' : `; the \`yaml\` parser alone ${yamlS.toFixed(2)} s`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// apply of no-op steps: N/3 deployments x (stage, warm, split).
const applySteps = (process.env.BP_BENCH_APPLY_STEPS ?? '1000,3000,10000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
for (const wanted of applySteps) {
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-'));
  try {
    const deployments = Math.ceil(wanted / 3);
    writeFileSync(join(dir, 'env.yaml'), envYaml(deployments, 1));
    const parallelism = process.env.BP_BENCH_APPLY_PARALLELISM
      ? ['--parallelism', process.env.BP_BENCH_APPLY_PARALLELISM]
      : [];
    const apply = measure(
      ['apply', 'env.yaml', '--auto-approve', '--refresh=false', '--state-dir', join(dir, 'state'), ...parallelism],
      dir,
    );
    const steps = deployments * 3;
    const state = JSON.parse(readFileSync(join(dir, 'state', 'envs', 'bench', 'state.json'), 'utf8'));
    console.log(
      `apply ${steps} no-op steps: ${apply.seconds.toFixed(2)} s wall, ${apply.cpu.toFixed(2)} s CPU, ` +
        `${((apply.cpu * 1e6) / steps).toFixed(0)} us CPU/step (${((apply.seconds * 1e6) / steps).toFixed(0)} us wall/step), ` +
        `peak ${apply.peakMb.toFixed(0)} MB, exit ${apply.status}, serial ${state.serial}`,
    );
    const noChange = measure(
      ['plan', 'env.yaml', '--detailed-exitcode', '--refresh=false', '--state-dir', join(dir, 'state')],
      dir,
    );
    console.log(
      `plan right after that apply: ${noChange.seconds.toFixed(2)} s wall, ${noChange.cpu.toFixed(2)} s CPU, exit ${noChange.status} (0 = no changes)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
