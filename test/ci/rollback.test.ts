/**
 * `bp rollback` of a completed canary on the real local-process router with traffic flowing:
 * the drained stable revision is warmed again before traffic returns to it, no request is
 * dropped or answered 5xx, history records it, and the next plan reports the file as diverged
 * (text, JSON, `--detailed-exitcode` 5) until the file agrees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Canary, generateTraffic, sample } from '../rollout/canary-fixture.js';

let c: Canary;
const V1 = { id: 'web-v1', version: 'v1' };
const V2 = { id: 'web-v2', version: 'v2' };

beforeAll(async () => {
  c = new Canary();
  const first = await c.setup({ revisions: [V1], traffic: [['web-v1', 10000]] });
  expect(first.code, `${first.stderr}\n${first.stdout}`).toBe(0);
  c.write({
    revisions: [{ ...V1, state: 'inactive' }, V2],
    traffic: [['web-v2', 10000]],
    steps: ['weight_bps: 1000', 'weight_bps: 5000'],
  });
  const canary = await c.run(['apply', c.file, '--auto-approve']);
  expect(canary.code, `${canary.stderr}\n${canary.stdout}`).toBe(0);
}, 120_000);
afterAll(async () => {
  await c.cleanup();
}, 60_000);

describe('bp rollback', () => {
  it('restores the split of the entry before a completed canary with nothing dropped, and plan reports diverged', async () => {
    expect(await sample(c.listen, 10)).toEqual({ v2: 10 });
    const before = JSON.parse((await c.run(['state', 'show', 'demo', '--json'])).stdout);
    // The canary's apply drained the old stable revision: rollback has to warm it again.
    expect(before.revisions['web-v1'].lifecycle).toBe('inactive');

    const traffic = generateTraffic(c.listen);
    const out = await c.run(['rollback', 'demo', 'web']);
    const stats = await traffic.stop();
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toMatch(/Rolled web back to the split of entry #1: web-v1 100%/);
    expect(stats.total).toBeGreaterThan(0);
    expect(stats.dropped).toBe(0);
    expect([...stats.statuses.keys()]).toEqual([200]);
    expect(await sample(c.listen, 20)).toEqual({ v1: 20 });

    const state = JSON.parse((await c.run(['state', 'show', 'demo', '--json'])).stdout);
    expect(state.revisions['web-v1'].lifecycle).toBe('ready');
    expect(state.revisions['web-v2'].lifecycle).toBe('inactive');

    const history = JSON.parse((await c.run(['history', 'demo', '--json'])).stdout).history;
    expect(history.at(-1)).toMatchObject({
      operation: 'rollback',
      outcome: 'succeeded',
      note: 'restored the split of entry #1',
      splits: { web: [{ revision_id: 'web-v1', weight_bps: 10000 }] },
    });

    // The file still asks for web-v2 100%: diverged, in text, JSON and the exit code.
    const text = await c.run(['plan', c.file]);
    expect(text.stdout).toMatch(
      /Warning: Rollout web\/web-v2 rolled back: rolled back by an operator to the split of history entry #1/,
    );
    expect(text.stdout).toMatch(/No changes\./);
    const json = await c.run(['plan', c.file, '--json', '--detailed-exitcode']);
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({
      changes: false,
      rollouts: [{ deployment_id: 'web', canary: 'web-v2', status: 'rolled_back', diverged: true }],
    });
    // A second apply of the same file does not undo the rollback.
    const again = await c.run(['apply', c.file, '--auto-approve']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await sample(c.listen, 10)).toEqual({ v1: 10 });

    // Once the file agrees (the split; its rollout strategy is unchanged), the plan is clean (exit 0).
    c.write({
      revisions: [V1, { ...V2, state: 'inactive' }],
      traffic: [['web-v1', 10000]],
      steps: ['weight_bps: 1000', 'weight_bps: 5000'],
    });
    const agreed = await c.run(['plan', c.file, '--detailed-exitcode']);
    expect(agreed.stdout + agreed.stderr).toMatch(/No changes\. Environment "demo" matches the configuration/);
    expect(agreed.code).toBe(0);
  }, 120_000);

  it('refuses, naming why: an unknown entry, or a split already in force', async () => {
    const missing = await c.run(['rollback', 'demo', 'web', '--to', '99']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/history of environment "demo" has no entry #99 recording deployment "web"/);
    const last = JSON.parse((await c.run(['history', 'demo', '--json'])).stdout).history.at(-1).id;
    const same = await c.run(['rollback', 'demo', 'web', '--to', String(last)]);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/already runs the split of entry/);
  }, 60_000);
});
