/**
 * Engine figures: `bp plan` on large environments (time, peak RSS, and the ratio to merely
 * parsing the YAML, the floor), and `bp apply` of no-op steps at growing sizes (per-step
 * overhead including durable state). Times are wall and CPU (user+sys): on a shared machine
 * CPU time is the figure that other load does not inflate.
 *
 *   npx tsx bench/plan-apply.ts [deployments] [revisions-per-deployment]
 *   BP_BENCH_APPLY_STEPS=1000,3000,10000 (default) sets the apply sizes; 0 skips apply.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsYaml from 'js-yaml';
import { parse as yamlParse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const bp = join(root, 'bin', 'bp');
const noop = join(root, 'bench', 'noop-deployer.mjs');

function envYaml(deployments: number, revisions: number): string {
  const out = ['schema: bp.environment/v1', 'environment_id: bench', 'deployers:', `  noop: { type: ${JSON.stringify(noop)} }`, 'deployments:'];
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
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, bp, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
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

const sizes: Array<[number, number]> = process.argv[2]
  ? [[Number(process.argv[2]), Number(process.argv[3] ?? 5)]]
  : [[200, 5], [2000, 5], [10000, 5]];

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
for (const [deployments, revisions] of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-'));
  try {
    const file = join(dir, 'env.yaml');
    const text = envYaml(deployments, revisions);
    writeFileSync(file, text);
    const mb = statSync(file).size / 1e6;
    const floor = timeIt(() => jsYaml.load(text));
    const yamlS = deployments <= 2000 ? timeIt(() => yamlParse(text)).seconds : NaN;
    const plan = measure(['plan', 'env.yaml', '--json', '--state-dir', join(dir, 'state')], dir);
    console.log(
      `plan ${deployments} deployments x ${revisions} revisions (${deployments * revisions} revisions, ${mb.toFixed(1)} MB): ` +
        `${plan.seconds.toFixed(2)} s wall, ${plan.cpu.toFixed(2)} s CPU, peak ${plan.peakMb.toFixed(0)} MB, exit ${plan.status}; ` +
        `parse floor js-yaml ${floor.seconds.toFixed(2)} s wall, ${floor.cpu.toFixed(2)} s CPU ` +
        `(ratio ${(plan.seconds / floor.seconds).toFixed(1)}x wall, ${(plan.cpu / floor.cpu).toFixed(1)}x CPU)` +
        (Number.isNaN(yamlS) ? '' : `; the \`yaml\` parser alone ${yamlS.toFixed(2)} s`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// apply of no-op steps: N/3 deployments x (stage, warm, split).
const applySteps = (process.env.BP_BENCH_APPLY_STEPS ?? '1000,3000,10000').split(',').map(Number).filter((n) => n > 0);
for (const wanted of applySteps) {
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-'));
  try {
    const deployments = Math.ceil(wanted / 3);
    writeFileSync(join(dir, 'env.yaml'), envYaml(deployments, 1));
    const apply = measure(['apply', 'env.yaml', '--auto-approve', '--refresh=false', '--state-dir', join(dir, 'state')], dir);
    const steps = deployments * 3;
    const state = JSON.parse(readFileSync(join(dir, 'state', 'envs', 'bench', 'state.json'), 'utf8'));
    console.log(
      `apply ${steps} no-op steps: ${apply.seconds.toFixed(2)} s wall, ${apply.cpu.toFixed(2)} s CPU, ` +
        `${((apply.cpu * 1e6) / steps).toFixed(0)} us CPU/step (${((apply.seconds * 1e6) / steps).toFixed(0)} us wall/step), ` +
        `peak ${apply.peakMb.toFixed(0)} MB, exit ${apply.status}, serial ${state.serial}`,
    );
    const noChange = measure(['plan', 'env.yaml', '--detailed-exitcode', '--refresh=false', '--state-dir', join(dir, 'state')], dir);
    console.log(`plan right after that apply: ${noChange.seconds.toFixed(2)} s wall, ${noChange.cpu.toFixed(2)} s CPU, exit ${noChange.status} (0 = no changes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
