/** Shared pieces of the fault suites: an environment of independent deployments and the state-vs-provider check. */
import { join } from 'node:path';
import { expect } from 'vitest';
import { bp, engineEnv, readProvider, tempDir, writeFile, type RunResult } from '../helpers/cli.js';

export interface Sandbox {
  dir: string;
  provider: string;
  /** Writes env.yaml for `deployments` independent deployments of two revisions at 50/50. */
  writeEnv(deployerConfig?: Record<string, unknown>): void;
  run(args: string[]): Promise<RunResult>;
  state(): Promise<RecordedStateJson>;
  cleanup(): void;
}

export interface RecordedStateJson {
  serial: number;
  pending: Record<string, unknown>;
  revisions: Record<string, { lifecycle: string; last_error: string | null }>;
  deployments: Record<string, { split: Array<{ revision_id: string; weight_bps: number }> | null }>;
}

export const revisionIds = (deployments: number): string[] =>
  Array.from({ length: deployments }, (_, i) => [`d${i}-a`, `d${i}-b`]).flat();

export function sandbox(deployments: number, prefix = 'bp-faults-'): Sandbox {
  const t = tempDir(prefix);
  const provider = join(t.dir, 'provider.json');
  const sb: Sandbox = {
    dir: t.dir,
    provider,
    writeEnv(deployerConfig = {}) {
      writeFile(
        join(t.dir, 'env.yaml'),
        engineEnv({
          provider,
          deployerConfig,
          deployments: Array.from({ length: deployments }, (_, i) => ({
            id: `d${i}`,
            revisions: [{ id: `d${i}-a` }, { id: `d${i}-b` }],
            traffic: [
              [`d${i}-a`, 5000],
              [`d${i}-b`, 5000],
            ] as Array<[string, number]>,
          })),
        }),
      );
    },
    run: (args) => bp(args, { cwd: t.dir }),
    async state() {
      const r = await bp(['state', 'show', 'demo', '--json'], { cwd: t.dir });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as RecordedStateJson;
    },
    cleanup: t.cleanup,
  };
  return sb;
}

/**
 * Recorded state says exactly what the provider runs: a revision is `ready` if and only if
 * it runs (healthy, one instance: nothing started twice), every recorded split is the
 * provider's split, and nothing is left pending.
 */
export async function expectStateMatchesProvider(sb: Sandbox, ids: string[]): Promise<RecordedStateJson> {
  const state = await sb.state();
  const p = readProvider(sb.provider);
  expect(state.pending).toEqual({});
  for (const id of ids) {
    const running = p.revisions[id]?.running === true;
    const lifecycle = state.revisions[id]?.lifecycle ?? 'inactive';
    expect(lifecycle === 'ready', `${id}: state ${lifecycle}, provider running=${running}`).toBe(running);
    if (running) expect(p.revisions[id].instances, `${id} started more than once`).toBe(1);
  }
  for (const [d, rec] of Object.entries(state.deployments)) {
    if (rec.split && rec.split.length > 0) expect(p.splits[d], `split of ${d}`).toEqual(rec.split);
    else expect(p.splits[d], `split of ${d}`).toBeUndefined();
  }
  return state;
}

/** The next apply without faults finishes the job, and then nothing is left to do. */
export async function expectNextApplyFinishes(sb: Sandbox, ids: string[]): Promise<void> {
  sb.writeEnv();
  const again = await sb.run(['apply', 'env.yaml', '--auto-approve', '--lock-timeout', '10s']);
  expect(again.code, again.stdout + again.stderr).toBe(0);
  const plan = await sb.run(['plan', 'env.yaml', '--detailed-exitcode']);
  expect(plan.code, plan.stdout).toBe(0);
  const state = await expectStateMatchesProvider(sb, ids);
  for (const id of ids) expect(state.revisions[id].lifecycle).toBe('ready');
}
