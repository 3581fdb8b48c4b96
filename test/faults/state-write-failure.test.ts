/**
 * A state write that fails while a step starts (disk full, a lost connection to PostgreSQL)
 * must be reported as that step's failure, with its reason. Today it is not: the executor
 * records the step's intent outside its try block, the walker turns the rejection into a
 * bare `false`, and the apply ends "0 failed" with no reason anywhere (found by the fuzz
 * suite through ids like `toString`, which made that record throw). Fix described in the
 * report of issue 8 (src/apply/executor.ts: record the intent inside the try).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployerSet } from '../../src/apply/deployer-set.js';
import type { ApplyEvent } from '../../src/apply/events.js';
import { executePlan } from '../../src/apply/executor.js';
import { emptyState } from '../../src/model/state.js';
import { plan } from '../../src/plan/index.js';
import { parseEnvironment } from '../../src/spec/index.js';
import { LocalStateBackend } from '../../src/state/local.js';
import { engineEnv } from '../helpers/cli.js';

describe('a state write failing as a step starts', () => {
  it('is reported as that step failing, with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-state-fail-'));
    try {
      const text = engineEnv({
        provider: join(dir, 'provider.json'),
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      });
      const desired = parseEnvironment(text, join(dir, 'env.yaml')).env;
      const now = new Date();
      const thePlan = plan({ desired, recorded: null, now });
      const session = await new LocalStateBackend(join(dir, 'state')).lock('demo', {
        operation: 'apply',
        timeoutMs: 0,
      });
      const base = emptyState('demo', 'lineage', now);
      await session.begin(base);
      let records = 0;
      const failing = Object.create(session) as typeof session;
      failing.record = async (m) => {
        if (records++ === 0) throw new Error('disk full while recording');
        return session.record(m);
      };
      const events: ApplyEvent[] = [];
      const stop = new AbortController();
      const deployers = new DeployerSet({
        environmentId: 'demo',
        instances: desired.deployers,
        baseDir: dir,
        stateDir: join(dir, 'state'),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      const result = await executePlan({
        plan: thePlan,
        desired,
        resolved: desired,
        session: failing,
        state: structuredClone(base),
        deployers,
        baseDir: dir,
        lockId: session.lock.id,
        parallelism: 1,
        clock: () => new Date(),
        stop: stop.signal,
        kill: stop.signal,
        emit: (e) => void events.push(e),
      });
      await deployers.close();
      await session.release();
      expect(result.failed).toBe(1);
      const failed = events.find((e) => e.type === 'step_failed') as { error?: string } | undefined;
      expect(failed?.error).toMatch(/disk full while recording/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
