/**
 * Engine figures: `bp plan` on large environments (time, peak RSS, and the ratio to merely
 * parsing the YAML, the floor), and `bp apply` of ~10,000 no-op steps (per-step overhead
 * including durable state). Run: npx tsx bench/plan-apply.ts [deployments] [revisions-per-deployment]
 */
import { execFileSync, spawnSync } from 'node:child_process';
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

/** Runs a command under /usr/bin/time -v; returns wall seconds and peak RSS in MB. */
function measure(args: string[], cwd: string): { seconds: number; peakMb: number; status: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, bp, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { seconds, peakMb: rss ? Number(rss[1]) / 1024 : NaN, status: r.status ?? -1 };
}

function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
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
    const jsYamlS = timeIt(() => jsYaml.load(text));
    const yamlS = deployments <= 2000 ? timeIt(() => yamlParse(text)) : NaN;
    const plan = measure(['plan', 'env.yaml', '--json', '--state-dir', join(dir, 'state')], dir);
    console.log(
      `plan ${deployments} deployments x ${revisions} revisions (${deployments * revisions} revisions, ${mb.toFixed(1)} MB): ` +
        `${plan.seconds.toFixed(2)} s, peak ${plan.peakMb.toFixed(0)} MB, exit ${plan.status}; ` +
        `parse floor js-yaml ${jsYamlS.toFixed(2)} s (ratio ${(plan.seconds / jsYamlS).toFixed(1)}x)` +
        (Number.isNaN(yamlS) ? '' : `, yaml ${yamlS.toFixed(2)} s`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// apply of ~10,000 no-op steps: 3,334 deployments x (stage, warm, split).
{
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-'));
  try {
    const deployments = Number(process.env.BP_BENCH_APPLY_DEPLOYMENTS ?? 3334);
    writeFileSync(join(dir, 'env.yaml'), envYaml(deployments, 1));
    const apply = measure(['apply', 'env.yaml', '--auto-approve', '--refresh=false', '--state-dir', join(dir, 'state')], dir);
    const steps = deployments * 3;
    const state = JSON.parse(readFileSync(join(dir, 'state', 'envs', 'bench', 'state.json'), 'utf8'));
    console.log(
      `apply ${steps} no-op steps: ${apply.seconds.toFixed(2)} s, ${((apply.seconds * 1e6) / steps).toFixed(0)} us/step, ` +
        `peak ${apply.peakMb.toFixed(0)} MB, exit ${apply.status}, serial ${state.serial}`,
    );
    const noChange = measure(['plan', 'env.yaml', '--detailed-exitcode', '--refresh=false', '--state-dir', join(dir, 'state')], dir);
    console.log(`plan right after that apply: ${noChange.seconds.toFixed(2)} s, exit ${noChange.status} (0 = no changes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
void execFileSync;
