import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bp, engineEnv, readProvider, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let provider: string;
let envFile: string;
const run = (args: string[], input?: string) => bp(args, { cwd: t.dir, input });

const canary = (extra: Partial<Parameters<typeof engineEnv>[0]> = {}) =>
  engineEnv({
    provider,
    deployments: [
      {
        id: 'web',
        revisions: [{ id: 'web-v1' }, { id: 'web-v2' }],
        traffic: [
          ['web-v1', 9000],
          ['web-v2', 1000],
        ],
      },
      { id: 'api', revisions: [{ id: 'api-v1' }], traffic: [['api-v1', 10000]] },
    ],
    ...extra,
  });

beforeEach(() => {
  t = tempDir();
  provider = join(t.dir, 'provider.json');
  envFile = writeFile(join(t.dir, 'env.yaml'), canary());
});
afterEach(() => t.cleanup());

describe('bp plan / apply through the CLI', () => {
  it('plans a fresh environment as JSON in the contract shape', async () => {
    const r = await run(['plan', 'env.yaml', '--json', '--detailed-exitcode']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    const plan = JSON.parse(r.stdout);
    expect(plan.format_version).toBe('bp.plan/v1');
    expect(plan.environment_id).toBe('demo');
    expect(plan.prior).toEqual({ lineage: null, serial: 0 });
    expect(plan.changes).toBe(true);
    expect(plan.summary).toEqual({ stage: 3, warm: 3, update: 0, apply_traffic_split: 2, drain: 0, archive: 0 });
    const split = plan.steps.find((s: { id: string }) => s.id === 'split:web');
    expect(split).toMatchObject({
      verb: 'apply_traffic_split',
      deployment_id: 'web',
      revision_id: null,
      split: {
        before: [],
        after: [
          { revision_id: 'web-v1', weight_bps: 9000 },
          { revision_id: 'web-v2', weight_bps: 1000 },
        ],
      },
    });
    expect([...split.depends_on].sort()).toEqual(['warm:web/web-v1', 'warm:web/web-v2']);
    expect(plan.steps.find((s: { id: string }) => s.id === 'stage:web/web-v2')).toMatchObject({
      depends_on: [],
      revision_id: 'web-v2',
    });
    // Independent deployments have no edges between them.
    for (const s of plan.steps.filter((x: { deployment_id: string }) => x.deployment_id === 'api')) {
      for (const d of s.depends_on) expect(d).toMatch(/:api(\/|$)/);
    }
  });

  it('applies, converges, records state, and then plans no changes', async () => {
    const a = await run(['apply', 'env.yaml', '--auto-approve']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/Apply complete: 8 succeeded, 0 failed, 0 skipped/);
    const p = readProvider(provider);
    expect(Object.keys(p.revisions).sort()).toEqual(['api-v1', 'web-v1', 'web-v2']);
    expect(p.splits.web).toEqual([
      { revision_id: 'web-v1', weight_bps: 9000 },
      { revision_id: 'web-v2', weight_bps: 1000 },
    ]);

    const again = await run(['plan', 'env.yaml', '--detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/No changes/);

    const show = await run(['state', 'show', 'demo', '--json']);
    const state = JSON.parse(show.stdout);
    expect(state.serial).toBe(1);
    expect(state.revisions['web-v2'].lifecycle).toBe('ready');
    expect(state.deployments.web.split).toEqual(p.splits.web);

    const rc = JSON.parse((await run(['runtime-config', 'demo'])).stdout);
    expect(rc).toEqual({
      format_version: 'bp.runtime-config/v1',
      environment_id: 'demo',
      revisions: [
        { deployment_id: 'api', revision_id: 'api-v1', weight_bps: 10000, endpoint: 'fake://api-v1' },
        { deployment_id: 'web', revision_id: 'web-v1', weight_bps: 9000, endpoint: 'fake://web-v1' },
        { deployment_id: 'web', revision_id: 'web-v2', weight_bps: 1000, endpoint: 'fake://web-v2' },
      ],
    });
    expect(existsSync(join(t.dir, '.bp', 'runtime', 'demo.json'))).toBe(true);
    const list = await run(['state', 'list']);
    expect(list.stdout.trim()).toBe('demo');
  });

  it('promotes 90/10 to 100 and archives the old revision in dependency order', async () => {
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    writeFile(
      envFile,
      engineEnv({
        provider,
        deployments: [
          {
            id: 'web',
            revisions: [{ id: 'web-v1', state: 'archived' }, { id: 'web-v2' }],
            traffic: [['web-v2', 10000]],
          },
          { id: 'api', revisions: [{ id: 'api-v1' }], traffic: [['api-v1', 10000]] },
        ],
      }),
    );
    const plan = JSON.parse((await run(['plan', 'env.yaml', '--json'])).stdout);
    expect(plan.steps.map((s: { id: string }) => s.id)).toEqual([
      'split:web',
      'drain:web/web-v1',
      'archive:web/web-v1',
    ]);
    expect(plan.steps[1].depends_on).toEqual(['split:web']);
    expect(plan.steps[2].depends_on).toEqual(['drain:web/web-v1']);
    const a = await run(['apply', 'env.yaml', '--auto-approve']);
    expect(a.code).toBe(0);
    const p = readProvider(provider);
    expect(p.revisions['web-v1']).toBeUndefined();
    expect(p.splits.web).toEqual([{ revision_id: 'web-v2', weight_bps: 10000 }]);
    // The split moved before the old revision was drained: never drain what carries traffic.
    const order = p.calls.map((c) => `${c.verb}:${c.key}`);
    expect(order.lastIndexOf('apply_traffic_split:web')).toBeLessThan(order.indexOf('drain:web-v1'));
  });

  it('refuses to apply without --auto-approve when stdin is not a terminal, changing nothing', async () => {
    const r = await run(['apply', 'env.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to apply without --auto-approve: standard input is not a terminal/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(provider)).toBe(false);
    expect((await run(['state', 'list'])).stdout).toMatch(/No recorded environments/);
  });

  it('applies a saved plan, and refuses it as stale once state moved on', async () => {
    const saved = await run(['plan', 'env.yaml', '--out', 'p1.json']);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toMatch(/Saved the plan to p1.json/);
    const planText = readFileSync(join(t.dir, 'p1.json'), 'utf8');
    expect(JSON.parse(planText).format_version).toBe('bp.planfile/v1');
    const a = await run(['apply', 'p1.json']);
    expect(a.code).toBe(0);
    const stale = await run(['apply', 'p1.json']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/stale/);
    const callsBefore = readProvider(provider).calls.length;
    expect(readProvider(provider).calls.length).toBe(callsBefore);
  });

  it('fails a step, skips its dependents, completes independent branches, and retries on the next apply', async () => {
    writeFile(envFile, canary({ deployerConfig: { faults: { 'warm:web-v2': { mode: 'permanent' } } } }));
    const a = await run(['apply', 'env.yaml', '--auto-approve', '--retries', '2']);
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/web\/web-v2: warm failed.*injected permanent failure of warm web-v2/);
    expect(a.stdout).toMatch(/web: apply_traffic_split skipped because warm:web\/web-v2 failed/);
    expect(a.stdout).toMatch(/Apply failed: 6 succeeded, 1 failed, 1 skipped/);
    const p = readProvider(provider);
    expect(p.splits.api).toEqual([{ revision_id: 'api-v1', weight_bps: 10000 }]);
    expect(p.splits.web).toBeUndefined();
    const state = JSON.parse((await run(['state', 'show', 'demo', '--json'])).stdout);
    expect(state.revisions['web-v2'].lifecycle).toBe('failed');
    expect(state.revisions['web-v2'].last_error).toMatch(/injected permanent failure/);
    expect(state.pending).toEqual({});

    writeFile(envFile, canary());
    const plan = JSON.parse((await run(['plan', 'env.yaml', '--json'])).stdout);
    expect(plan.steps.map((s: { id: string }) => s.id)).toEqual(['stage:web/web-v2', 'warm:web/web-v2', 'split:web']);
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    expect((await run(['plan', 'env.yaml', '--detailed-exitcode'])).code).toBe(0);
  });

  it('retries transient provider errors with backoff and converges', async () => {
    writeFile(envFile, canary({ deployerConfig: { faults: { 'warm:web-v1': { mode: 'transient', count: 2 } } } }));
    const a = await run(['apply', 'env.yaml', '--auto-approve', '--retries', '4']);
    expect(a.code).toBe(0);
    expect(a.stdout.match(/web\/web-v1: attempt \d failed/g)).toHaveLength(2);
  });

  it('times out a hanging verb and reports it precisely', async () => {
    writeFile(envFile, canary({ deployerConfig: { faults: { 'stage:api-v1': { mode: 'hang' } } } }));
    const a = await run(['apply', 'env.yaml', '--auto-approve', '--step-timeout', '1s', '--retries', '1']);
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/api\/api-v1: stage failed .*did not finish within 1s/);
    expect(readProvider(provider).splits.web).toHaveLength(2);
  });

  it('--target limits the plan to one deployment', async () => {
    const plan = JSON.parse((await run(['plan', 'env.yaml', '--json', '--target', 'api'])).stdout);
    expect(new Set(plan.steps.map((s: { deployment_id: string }) => s.deployment_id))).toEqual(new Set(['api']));
    const bad = await run(['plan', 'env.yaml', '--target', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nope/);
  });

  it('destroy drains and archives everything and leaves the provider empty', async () => {
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    const d = await run(['destroy', 'env.yaml', '--auto-approve']);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/Destroy complete/);
    const p = readProvider(provider);
    expect(p.revisions).toEqual({});
    expect(p.splits).toEqual({});
    const state = JSON.parse((await run(['state', 'show', 'demo', '--json'])).stdout);
    for (const r of Object.values(state.revisions) as Array<{ lifecycle: string }>)
      expect(r.lifecycle).toBe('archived');
    expect(JSON.parse((await run(['runtime-config', 'demo'])).stdout).revisions).toEqual([]);
    expect((await run(['destroy', 'env.yaml', '--auto-approve'])).code).toBe(0);
  });

  it('heals drift: a revision stopped outside bp is seen by refresh and restarted', async () => {
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    const p = readProvider(provider);
    p.revisions['api-v1'].running = false;
    writeFile(provider, JSON.stringify(p));
    const plan = await run(['plan', 'env.yaml']);
    expect(plan.stdout).toMatch(/drift/i);
    expect(plan.stdout).toMatch(/api\/api-v1/);
    expect((await run(['plan', 'env.yaml', '--refresh=false', '--detailed-exitcode'])).code).toBe(0);
    expect((await run(['apply', 'env.yaml', '--auto-approve'])).code).toBe(0);
    expect(readProvider(provider).revisions['api-v1'].running).toBe(true);
    expect((await run(['plan', 'env.yaml', '--detailed-exitcode'])).code).toBe(0);
  });

  it('prints the plan as Graphviz DOT', async () => {
    const g = await run(['graph', 'env.yaml']);
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/^digraph "bp:demo" \{/);
    expect(g.stdout).toContain('"warm:web/web-v2" -> "split:web";');
  });
});
