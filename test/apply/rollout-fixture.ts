/**
 * In-process rollout runs against the engine-test deployer (a real plugin whose provider is a
 * JSON file) with a scripted analysis, so every rollout path can be driven step by step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDesired } from '../../src/apply/desired.js';
import { applyEnvironment, planEnvironment, type ApplyOutcome, type EngineContext } from '../../src/apply/engine.js';
import type { ApplyEvent } from '../../src/apply/events.js';
import { controlRollout, type OperatorDecision } from '../../src/apply/rollout-control.js';
import type { AnalysisDeps } from '../../src/apply/rollout-runner.js';
import type { Analysis } from '../../src/model/environment.js';
import type { RolloutMeasurement } from '../../src/model/state.js';
import { openStateBackend } from '../../src/state/index.js';
import { ENGINE_DEPLOYER } from '../helpers/cli.js';

export interface Revision {
  id: string;
  state?: string;
}

export function envYaml(o: {
  provider: string;
  revisions: Revision[];
  traffic: Array<[string, number]>;
  steps?: string[];
  onFailure?: 'rollback' | 'pause';
  faults?: Record<string, unknown>;
}): string {
  const lines = [
    'schema: bp.environment/v1',
    'environment_id: demo',
    'deployers:',
    '  fake:',
    `    type: ${JSON.stringify(ENGINE_DEPLOYER)}`,
    `    config: ${JSON.stringify({ provider_file: o.provider, ...(o.faults ? { faults: o.faults } : {}) })}`,
    'deployments:',
    '  - deployment_id: web',
    '    deployer: fake',
    '    revisions:',
  ];
  for (const r of o.revisions) {
    lines.push(
      `      - revision_id: ${r.id}`,
      `        artifact: { command: [node, server.js], env: { V: ${r.id} } }`,
      '        drain_seconds: 0',
    );
    if (r.state) lines.push(`        state: ${r.state}`);
  }
  lines.push('    traffic:');
  for (const [id, w] of o.traffic) lines.push(`      - { revision_id: ${id}, weight_bps: ${w} }`);
  if (o.steps) {
    lines.push('    rollout:', '      steps:');
    for (const s of o.steps) lines.push(`        - ${s}`);
    if (o.onFailure) lines.push(`      on_failure: ${o.onFailure}`);
  }
  return lines.join('\n') + '\n';
}

/** An analysis that returns the scripted verdicts in order (then passes), counting windows. */
export function scriptedAnalysis(
  verdicts: RolloutMeasurement['verdict'][] = [],
): AnalysisDeps & { opened: number; measured: Analysis[] } {
  const queue = [...verdicts];
  const deps = {
    opened: 0,
    measured: [] as Analysis[],
    async openWindow(analysis: Analysis) {
      deps.opened++;
      return {
        async finish() {
          deps.measured.push(analysis);
          const verdict = queue.shift() ?? 'pass';
          const value = verdict === 'pass' ? 1 : verdict === 'fail' ? 0.5 : null;
          return {
            at: new Date().toISOString(),
            value,
            verdict,
            detail: `${analysis.metric} ${value ?? 'no data'} (scripted ${verdict})`,
          };
        },
      };
    },
    intervalMs: () => 5,
  };
  return deps;
}

export class RolloutHarness {
  readonly events: ApplyEvent[] = [];
  readonly provider: string;
  readonly file: string;

  constructor(readonly dir: string) {
    this.provider = join(dir, 'provider.json');
    this.file = join(dir, 'env.yaml');
  }

  write(o: Omit<Parameters<typeof envYaml>[0], 'provider'>): void {
    writeFileSync(this.file, envYaml({ provider: this.provider, ...o }));
  }

  async context(): Promise<EngineContext> {
    const backend = await openStateBackend({ stateDir: join(this.dir, '.bp') });
    return {
      backend,
      stateDir: join(this.dir, '.bp'),
      logger: silent,
      emit: (e) => this.events.push(e),
      clock: () => new Date(),
      vars: {},
    };
  }

  async apply(o: { analysis?: AnalysisDeps; waitMs?: number; stop?: AbortSignal } = {}): Promise<ApplyOutcome> {
    const desired = await loadDesired(this.file);
    const ctx = await this.context();
    try {
      return await applyEnvironment(ctx, {
        operation: 'apply',
        desired: desired.env,
        baseDir: desired.baseDir,
        lockTimeoutMs: 0,
        parallelism: 4,
        retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
        rolloutWaitMs: o.waitMs,
        analysis: o.analysis ?? scriptedAnalysis(),
        confirm: async () => true,
        stop: o.stop ?? new AbortController().signal,
        kill: new AbortController().signal,
      });
    } finally {
      await ctx.backend.close();
    }
  }

  async plan() {
    const desired = await loadDesired(this.file);
    const ctx = await this.context();
    try {
      return (await planEnvironment(ctx, { desired: desired.env, baseDir: desired.baseDir })).plan;
    } finally {
      await ctx.backend.close();
    }
  }

  async control(decision: OperatorDecision, o: { analysis?: AnalysisDeps; waitMs?: number } = {}) {
    const ctx = await this.context();
    try {
      return await controlRollout(ctx, {
        environmentId: 'demo',
        deploymentId: 'web',
        decision,
        baseDir: this.dir,
        lockTimeoutMs: 0,
        parallelism: 1,
        retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
        rolloutWaitMs: o.waitMs,
        analysis: o.analysis ?? scriptedAnalysis(),
        stop: new AbortController().signal,
        kill: new AbortController().signal,
      });
    } finally {
      await ctx.backend.close();
    }
  }

  async state() {
    const ctx = await this.context();
    try {
      return (await ctx.backend.load('demo'))!;
    } finally {
      await ctx.backend.close();
    }
  }

  /** What the fake provider was told: every split it enforced, in order (0-weight entries left out). */
  splitHistory(): Array<Array<[string, number]>> {
    const p = this.readProvider();
    return p.calls
      .filter((c) => c.verb === 'apply_traffic_split')
      .map((c) =>
        (c.entries ?? []).filter((e) => e.weight_bps > 0).map((e) => [e.revision_id, e.weight_bps] as [string, number]),
      );
  }

  /** Revisions the fake provider runs now. */
  running(): string[] {
    return Object.entries(this.readProvider().revisions)
      .filter(([, r]) => r.running)
      .map(([id]) => id)
      .sort();
  }

  private readProvider() {
    return JSON.parse(readFileSync(this.provider, 'utf8')) as {
      revisions: Record<string, { running: boolean }>;
      splits: Record<string, Array<{ revision_id: string; weight_bps: number }>>;
      calls: Array<{ verb: string; key: string; entries?: Array<{ revision_id: string; weight_bps: number }> }>;
    };
  }

  currentSplit(): Array<[string, number]> {
    return (this.readProvider().splits.web ?? [])
      .filter((e) => e.weight_bps > 0)
      .map((e) => [e.revision_id, e.weight_bps]);
  }
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
