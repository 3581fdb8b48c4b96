/**
 * Fuzzing what deployer plugins return: random values (fast-check `anything`, plus hostile
 * shapes) from stage, warm and applyTrafficSplit, run through the real executor. Whatever a
 * plugin returns: executePlan never throws, a result that does not fit the plugin API's
 * shapes is a failed step whose error names the verb and what is wrong, and a split is a
 * success only when it reports exactly the split asked for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executePlan } from '../../src/apply/executor.js';
import { checkSplitResult, checkStageResult, checkWarmResult } from '../../src/apply/plugin-results.js';
import type { DeployerEnvironment, VerbOptions } from '../../src/model/deployer.js';
import { BpError } from '../../src/model/errors.js';
import { plan as computePlan } from '../../src/plan/index.js';
import { environment, freshState, MemoryDeployer, memoryDeployerSet, MemorySession } from '../apply/memory-deployer.js';
import { FUZZ_RUNS } from './env-arbitraries.js';

type Verb = 'stage' | 'warm' | 'split';

/** A memory deployer whose `verb` answers `value` (after doing its work). */
class Lying extends MemoryDeployer {
  constructor(
    private readonly verb: Verb,
    private readonly value: unknown,
  ) {
    super([]);
  }
  override async stageRevision(env: DeployerEnvironment, id: string, opts: VerbOptions) {
    const real = await super.stageRevision(env, id, opts);
    return (this.verb === 'stage' ? this.value : real) as never;
  }
  override async warmRevision(env: DeployerEnvironment, id: string, opts: VerbOptions) {
    const real = await super.warmRevision(env, id, opts);
    return (this.verb === 'warm' ? this.value : real) as never;
  }
  override async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions) {
    const real = await super.applyTrafficSplit(env, deploymentId, opts);
    return (this.verb === 'split' ? this.value : real) as never;
  }
}

const hostile = fc.oneof(
  fc.anything(),
  fc.constantFrom('ok', 42, true, [], () => 1, Symbol('x'), new Date(0), Object.create(null), { outputs: 'x' }),
  fc.record({ outputs: fc.anything(), endpoint: fc.anything() }, { requiredKeys: [] }),
  fc.record({
    applied_deployment_id: fc.constantFrom('web', 'other', '../..', undefined),
    applied_entries: fc.oneof(
      fc.anything(),
      fc.array(
        fc.record({
          revision_id: fc.constantFrom('w1', 'invented', ''),
          weight_bps: fc.oneof(fc.integer(), fc.double()),
        }),
      ),
      fc.constant([{ revision_id: 'w1', weight_bps: 10000 }]),
    ),
  }),
);

async function run(verb: Verb, value: unknown) {
  const env = environment({ web: ['w1'] });
  const deployer = new Lying(verb, value);
  const session = new MemorySession([]);
  const plan = computePlan({ desired: env, recorded: null, now: new Date(0) });
  const result = await executePlan({
    plan,
    desired: env,
    resolved: env,
    session,
    state: freshState(),
    deployers: memoryDeployerSet(deployer),
    baseDir: '/nonexistent',
    lockId: session.lock.id,
    parallelism: 4,
    retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    clock: () => new Date(0),
    stop: new AbortController().signal,
    kill: new AbortController().signal,
    emit: () => undefined,
  });
  const id = verb === 'split' ? 'split:web' : `${verb}:web/w1`;
  return result.outcomes.find((o) => o.step_id === id)!;
}

/** What the pure checks say about `value` (the executor must agree). */
function acceptable(verb: Verb, value: unknown): boolean {
  try {
    if (verb === 'stage') checkStageResult('x', value);
    else if (verb === 'warm') checkWarmResult('x', value);
    else checkSplitResult('x', value, 'web', [{ revision_id: 'w1', weight_bps: 10000 }]);
    return true;
  } catch (e) {
    expect(BpError.is(e), String(e)).toBe(true);
    return false;
  }
}

describe('plugin result fuzzing through the executor', () => {
  for (const verb of ['stage', 'warm', 'split'] as const) {
    it(`${verb}: random results never crash bp; a bad one is a failed step naming what is wrong`, async () => {
      const runs = Math.max(20, Math.floor(FUZZ_RUNS / 4));
      await fc.assert(
        fc.asyncProperty(hostile, async (value) => {
          const outcome = await run(verb, value);
          if (acceptable(verb, value)) {
            expect(outcome.status, outcome.error).toBe('succeeded');
          } else {
            expect(outcome.status).toBe('failed');
            const verbName = verb === 'split' ? 'applyTrafficSplit' : verb;
            expect(outcome.error).toContain(`the deployer's ${verbName} of `);
            expect(outcome.error).toMatch(/returned|reports|applied a split that differs/);
            expect(outcome.error).not.toMatch(/Cannot read propert|is not a function|undefined \(reading/);
          }
        }),
        { numRuns: runs },
      );
    });
  }
});
