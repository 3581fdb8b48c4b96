/** Runs the real `bin/bp` as a child process, the way users and CI pipelines do. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BP = join(ROOT, 'bin', 'bp');
export const ENGINE_DEPLOYER = join(ROOT, 'test', 'fixtures', 'engine-deployer.mjs');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string;
}

/**
 * The shared test plugins (test/fixtures/*.mjs) live outside the temporary folders env files
 * are written to; the operator's BP_TRUSTED_PLUGIN_DIRS trusts them (docs/security.md).
 */
export const TRUSTED_TEST_PLUGIN_DIRS = join(ROOT, 'test', 'fixtures');

export function spawnBp(args: string[], opts: RunOptions): ChildProcess {
  return spawn(process.execPath, [BP, ...args], {
    cwd: opts.cwd,
    env: {
      ...process.env,
      NO_COLOR: '1',
      FORCE_COLOR: undefined,
      BP_RETRY_BASE_MS: '10',
      BP_TRUSTED_PLUGIN_DIRS: TRUSTED_TEST_PLUGIN_DIRS,
      ...opts.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess, input?: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.end(input ?? '');
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

export function bp(args: string[], opts: RunOptions): Promise<RunResult> {
  return collect(spawnBp(args, opts), opts.input);
}

export function tempDir(prefix = 'bp-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A YAML env file using the engine-test deployer; `provider` is its provider JSON file. */
export function engineEnv(opts: {
  envId?: string;
  provider: string;
  deployerConfig?: Record<string, unknown>;
  deployments: Array<{
    id: string;
    revisions: Array<{ id: string; state?: string; ttl?: string; env?: Record<string, string> }>;
    traffic: Array<[string, number]>;
  }>;
}): string {
  const config = { provider_file: opts.provider, ...(opts.deployerConfig ?? {}) };
  const lines = [
    'schema: bp.environment/v1',
    `environment_id: ${opts.envId ?? 'demo'}`,
    'deployers:',
    '  fake:',
    `    type: ${JSON.stringify(ENGINE_DEPLOYER)}`,
    `    config: ${JSON.stringify(config)}`,
    'deployments:',
  ];
  for (const d of opts.deployments) {
    lines.push(`  - deployment_id: ${d.id}`, '    deployer: fake', '    revisions:');
    for (const r of d.revisions) {
      lines.push(
        `      - revision_id: ${r.id}`,
        `        artifact: { command: [node, server.js], env: ${JSON.stringify(r.env ?? { V: r.id })} }`,
      );
      lines.push('        drain_seconds: 0');
      if (r.state) lines.push(`        state: ${r.state}`);
      if (r.ttl) lines.push(`        ttl: ${r.ttl}`);
    }
    if (d.traffic.length > 0) {
      lines.push('    traffic:');
      for (const [rev, w] of d.traffic) lines.push(`      - { revision_id: ${rev}, weight_bps: ${w} }`);
    }
  }
  return lines.join('\n') + '\n';
}

export function writeFile(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

export interface Provider {
  revisions: Record<string, { staged: boolean; running: boolean; healthy: boolean; instances: number }>;
  splits: Record<string, Array<{ revision_id: string; weight_bps: number }>>;
  calls: Array<{ verb: string; key: string; effect: string }>;
}

export function readProvider(path: string): Provider {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Provider;
  } catch {
    return { revisions: {}, splits: {}, calls: [] };
  }
}
