/**
 * The engine releases a deployment's routing once, right before the archive of its last
 * revision, whichever deployer runs it (docs/design.md#traffic-rules); deployers never decide it.
 */
import { describe, expect, it } from 'vitest';
import { fullEnvironment } from '../../src/apply/deployer-env.js';
import { executePlan } from '../../src/apply/executor.js';
import type { Environment } from '../../src/model/environment.js';
import type { RecordedState } from '../../src/model/state.js';
import { plan as computePlan } from '../../src/plan/index.js';
import { environment, freshState, MemoryDeployer, memoryDeployerSet, MemorySession } from './memory-deployer.js';

const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

async function apply(desired: Environment, state: RecordedState, deployer: MemoryDeployer, trace: string[]) {
  const session = new MemorySession(trace);
  const plan = computePlan({ desired, recorded: state, now: new Date(0) });
  const result = await executePlan({
    plan,
    desired,
    resolved: fullEnvironment(desired, state),
    session,
    state,
    deployers: memoryDeployerSet(deployer),
    baseDir: '/nonexistent',
    lockId: session.lock.id,
    parallelism: 10,
    retry: NO_RETRY,
    clock: () => new Date(0),
    stop: new AbortController().signal,
    kill: new AbortController().signal,
    emit: () => undefined,
  });
  expect(result.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
  return plan;
}

describe('engine: routing is released with the last revision', () => {
  it('taking a deployment down releases its routing once, before the last archive; others keep theirs', async () => {
    const trace: string[] = [];
    const deployer = new MemoryDeployer(trace);
    const state = freshState();
    await apply(environment({ web: ['w1', 'w2', 'w3'], api: ['a1', 'a2'] }), state, deployer, trace);
    expect(trace.filter((t) => t.startsWith('call release'))).toEqual([]);

    trace.length = 0;
    const plan = await apply(environment({ api: ['a1'] }), state, deployer, trace);
    // Three archives of web ran in parallel; exactly one release of web, none of api (a1 stays).
    expect(plan.steps.filter((s) => s.verb === 'archive').length).toBe(4);
    expect(trace.filter((t) => t.startsWith('call release'))).toEqual(['call release:web']);
    const release = trace.indexOf('call release:web');
    const lastArchiveCall = Math.max(...['w1', 'w2', 'w3'].map((w) => trace.indexOf(`call archive:${w}`)));
    expect(release).toBeLessThan(lastArchiveCall);
    expect(release).toBeGreaterThan(-1);
  });

  it('archiving a revision that is not the last releases nothing; archiving the last one does', async () => {
    const trace: string[] = [];
    const deployer = new MemoryDeployer(trace);
    const state = freshState();
    await apply(environment({ web: ['w1', 'w2'] }), state, deployer, trace);
    trace.length = 0;
    const retireW2 = environment({ web: ['w1'] });
    await apply(retireW2, state, deployer, trace);
    expect(trace).toContain('call archive:w2');
    expect(trace.filter((t) => t.startsWith('call release'))).toEqual([]);

    trace.length = 0;
    await apply(environment({}), state, deployer, trace);
    expect(trace.filter((t) => t.startsWith('call release') || t.startsWith('call archive'))).toEqual([
      'call release:web',
      'call archive:w1',
    ]);
  });
});
