/**
 * The executor, its walker and the engine in-process, against an in-memory deployer and state
 * session (./memory-deployer.ts): record ordering, failure isolation, the parallelism bound,
 * both interrupts, retries and timeouts. Waits are on conditions and gates, never sleeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyEnvironment } from '../../src/apply/engine.js';
import type { ApplyEvent } from '../../src/apply/events.js';
import { executePlan, type ExecuteOptions } from '../../src/apply/executor.js';
import type { RetryPolicy } from '../../src/apply/retry.js';
import type { Environment } from '../../src/model/environment.js';
import type { Plan, PlanStep } from '../../src/model/plan.js';
import { plan as computePlan } from '../../src/plan/index.js';
import { LocalStateBackend } from '../../src/state/local.js';
import {
  deferred,
  environment,
  failWith,
  freshState,
  MemoryDeployer,
  memoryDeployerSet,
  MemorySession,
  until,
  untilAborted,
} from './memory-deployer.js';

const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

interface Run {
  trace: string[];
  deployer: MemoryDeployer;
  session: MemorySession;
  events: ApplyEvent[];
  stop: AbortController;
  kill: AbortController;
  plan: Plan;
  options: (o?: Partial<ExecuteOptions>) => ExecuteOptions;
}

function setUp(env: Environment): Run {
  const trace: string[] = [];
  const deployer = new MemoryDeployer(trace);
  const session = new MemorySession(trace);
  const events: ApplyEvent[] = [];
  const stop = new AbortController();
  const kill = new AbortController();
  const plan = computePlan({ desired: env, recorded: null, now: new Date(0) });
  const options = (o: Partial<ExecuteOptions> = {}): ExecuteOptions => ({
    plan,
    desired: env,
    resolved: env,
    session,
    state: freshState(),
    deployers: memoryDeployerSet(deployer),
    baseDir: '/nonexistent',
    lockId: session.lock.id,
    parallelism: 10,
    retry: NO_RETRY,
    clock: () => new Date(0),
    stop: stop.signal,
    kill: kill.signal,
    emit: (e) => events.push(e),
    ...o,
  });
  return { trace, deployer, session, events, stop, kill, plan, options };
}

/** The deployer call a step makes, as the memory deployer traces it. */
function callOf(step: PlanStep): string {
  return step.verb === 'apply_traffic_split'
    ? `call split:${step.deployment_id}`
    : `call ${step.verb}:${step.revision_id}`;
}

const statusOf = (r: Awaited<ReturnType<typeof executePlan>>, id: string) => r.outcomes.find((o) => o.step_id === id);

describe('executor: record ordering', () => {
  it("records a step's intent before its verb runs, and its outcome before any dependent starts", async () => {
    const run = setUp(environment({ web: ['w1', 'w2'], api: ['a1'] }));
    // Durability takes time: each record completes a few macrotasks later.
    run.session.slowRecord = async () => {
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    };
    const result = await executePlan(run.options({ parallelism: 4 }));
    expect(result.failed).toBe(0);
    expect(result.succeeded).toBe(run.plan.steps.length);
    const at = (line: string) => {
      const i = run.trace.indexOf(line);
      expect(i, `${line} in the trace`).toBeGreaterThanOrEqual(0);
      return i;
    };
    for (const step of run.plan.steps) {
      expect(at(`intent ${step.id}`)).toBeLessThan(at(callOf(step)));
      expect(at(`outcome ${step.id}`)).toBeGreaterThan(at(callOf(step)));
      for (const dep of step.depends_on) expect(at(`outcome ${dep}`)).toBeLessThan(at(callOf(step)));
    }
    // The in-between lifecycle is part of the intent.
    expect(at('revision w1=warming')).toBeLessThan(at('call warm:w1'));
    expect(at('revision w1=ready')).toBeGreaterThan(at('return warm:w1'));
  });
});

describe('executor: failures', () => {
  it('a failed step skips its dependents only; independent deployments converge', async () => {
    const run = setUp(environment({ web: ['w1'], api: ['a1'] }));
    run.deployer.on.set('warm:w1', failWith('the host refused the container'));
    const result = await executePlan(run.options());
    expect(statusOf(result, 'warm:web/w1')).toMatchObject({
      status: 'failed',
      code: 'Provider',
      error: 'the host refused the container',
    });
    expect(statusOf(result, 'split:web')).toMatchObject({ status: 'skipped', because: 'warm:web/w1' });
    for (const id of ['stage:api/a1', 'warm:api/a1', 'split:api', 'stage:web/w1']) {
      expect(statusOf(result, id)?.status).toBe('succeeded');
    }
    expect(result).toMatchObject({ succeeded: 4, failed: 1, skipped: 1, notStarted: 0, interrupted: false });
    expect(run.trace).not.toContain('call split:web');
    // The failure is recorded: the revision is failed, its pending intent settled.
    expect(run.trace).toContain('revision w1=failed');
    expect(run.trace).toContain('outcome warm:web/w1');
    expect(run.events.filter((e) => e.type === 'step_skipped').map((e) => e.step.id)).toEqual(['split:web']);
  });

  it('refuses a plan whose step depends on a step it lacks, before running or recording anything', async () => {
    const run = setUp(environment({ web: ['w1'] }));
    const steps = run.plan.steps.filter((s) => s.id !== 'stage:web/w1');
    await expect(executePlan(run.options({ plan: { ...run.plan, steps } }))).rejects.toMatchObject({
      code: 'PlanError',
      message: 'step "warm:web/w1" depends on "stage:web/w1", which is not in the plan',
    });
    expect(run.deployer.calls).toEqual([]);
    expect(run.session.records).toEqual([]);
  });
});

describe('executor: parallelism', () => {
  it.each([1, 2, 3])('never runs more than %i verbs at once, and uses the whole bound', async (parallelism) => {
    const deployments = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`d${i}`, [`r${i}`]]));
    const run = setUp(environment(deployments));
    run.session.slowRecord = () => new Promise((r) => setImmediate(r));
    const result = await executePlan(run.options({ parallelism }));
    expect(result.succeeded).toBe(18);
    expect(run.deployer.peak).toBe(parallelism);
  });
});

describe('executor: interrupts', () => {
  it('first interrupt: no new step starts; the running step finishes and is recorded', async () => {
    const run = setUp(environment({ web: ['w1'], api: ['a1'] }));
    const gate = deferred();
    for (const key of ['stage:w1', 'stage:a1']) run.deployer.on.set(key, () => gate.promise);
    const done = executePlan(run.options({ parallelism: 1 }));
    await until(() => run.deployer.calls.length === 1, 'the first verb runs');
    run.stop.abort();
    // Give the walker every chance to (wrongly) start something, then let the verb finish.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(run.deployer.calls).toHaveLength(1);
    const running = run.deployer.calls[0];
    expect(running.signal.aborted).toBe(false);
    gate.resolve();
    const result = await done;

    const stepId = running.target === 'w1' ? 'stage:web/w1' : 'stage:api/a1';
    expect(statusOf(result, stepId)?.status).toBe('succeeded');
    expect(run.trace).toContain(`outcome ${stepId}`);
    expect(run.deployer.calls).toHaveLength(1);
    expect(result).toMatchObject({ succeeded: 1, failed: 0, notStarted: 5, interrupted: true });
  });

  it('second interrupt: running steps are told to stop, and their failure is recorded', async () => {
    const run = setUp(environment({ web: ['w1'] }));
    run.deployer.on.set('stage:w1', untilAborted);
    const done = executePlan(run.options());
    await until(() => run.deployer.calls.length === 1, 'stage runs');
    run.stop.abort();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(run.deployer.calls[0].signal.aborted).toBe(false);
    run.kill.abort();
    const result = await done;
    expect(run.deployer.calls[0].signal.aborted).toBe(true);
    expect(statusOf(result, 'stage:web/w1')).toMatchObject({ status: 'failed', code: 'Aborted' });
    expect(run.trace).toContain('outcome stage:web/w1');
    expect(run.trace).toContain('revision w1=failed');
    expect(result).toMatchObject({ failed: 1, skipped: 2, interrupted: true });
  });
});

describe('executor: retries and timeouts', () => {
  it('retries a retryable failure with the engine policy, reporting each retry; the intent is recorded once', async () => {
    const run = setUp(environment({ web: ['w1'] }));
    run.deployer.on.set('stage:w1', (call) => {
      if (call.attempt < 3) throw Object.assign(new Error('throttled'), { code: 'Provider', retryable: true });
    });
    const result = await executePlan(run.options({ retry: { attempts: 4, baseDelayMs: 0, maxDelayMs: 0 } }));
    expect(statusOf(result, 'stage:web/w1')?.status).toBe('succeeded');
    expect(run.deployer.calls.filter((c) => c.verb === 'stage')).toHaveLength(3);
    const retries = run.events.filter((e) => e.type === 'step_retrying');
    expect(retries.map((e) => (e.type === 'step_retrying' ? [e.attempt, e.error] : null))).toEqual([
      [1, 'throttled'],
      [2, 'throttled'],
    ]);
    expect(run.trace.filter((l) => l === 'intent stage:web/w1')).toHaveLength(1);
  });

  it('gives up after the last attempt, and never retries a permanent failure', async () => {
    const run = setUp(environment({ web: ['w1'], api: ['a1'] }));
    run.deployer.on.set('stage:w1', failWith('rate exceeded', true));
    run.deployer.on.set('stage:a1', failWith('image not found', false));
    const result = await executePlan(run.options({ retry: { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 } }));
    expect(statusOf(result, 'stage:web/w1')).toMatchObject({ status: 'failed', error: 'rate exceeded' });
    expect(statusOf(result, 'stage:api/a1')).toMatchObject({ status: 'failed', error: 'image not found' });
    expect(run.deployer.calls.filter((c) => c.target === 'w1')).toHaveLength(3);
    expect(run.deployer.calls.filter((c) => c.target === 'a1')).toHaveLength(1);
  });

  it('a verb that outlives its timeout fails with Timeout (retryable), and each attempt is told to stop', async () => {
    const run = setUp(environment({ web: ['w1'] }));
    // Ignores its signal: the timeout must win regardless.
    run.deployer.on.set('stage:w1', () => new Promise(() => undefined));
    const result = await executePlan(
      run.options({ timeoutsMs: { stage: 20 }, retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 } }),
    );
    expect(statusOf(result, 'stage:web/w1')).toMatchObject({ status: 'failed', code: 'Timeout' });
    const calls = run.deployer.calls.filter((c) => c.verb === 'stage');
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.signal.aborted)).toBe(true);
    expect(statusOf(result, 'warm:web/w1')?.status).toBe('skipped');
  });
});

describe('engine: plans', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('refuses a saved plan with a dangling dependency before taking any state step', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bp-engine-'));
    const env = environment({ web: ['w1'] });
    const full = computePlan({ desired: env, recorded: null, now: new Date(0) });
    const broken: Plan = { ...full, steps: full.steps.filter((s) => s.verb !== 'stage') };
    const backend = new LocalStateBackend(join(dir, 'state'));
    const events: ApplyEvent[] = [];
    try {
      const ctx = {
        backend,
        stateDir: join(dir, 'state'),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        emit: (e: ApplyEvent) => events.push(e),
        clock: () => new Date(0),
        vars: {},
      };
      await expect(
        applyEnvironment(ctx, {
          operation: 'apply',
          desired: env,
          baseDir: dir,
          savedPlan: broken,
          lockTimeoutMs: 0,
          parallelism: 1,
          confirm: async () => true,
          stop: new AbortController().signal,
          kill: new AbortController().signal,
        }),
      ).rejects.toMatchObject({ code: 'PlanError', message: expect.stringContaining('which is not in the plan') });
      expect(await backend.load('demo')).toBeNull();
      expect(await backend.lockHolder('demo')).toBeNull();
      expect(events.map((e) => e.type)).not.toContain('plan_ready');
    } finally {
      await backend.close();
    }
  });
});
