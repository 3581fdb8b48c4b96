/**
 * Every JSON output of the CLI, produced by running the real command, validated against its
 * schema under schemas/ (docs/design.md#json-outputs): format_version, snake_case, 1-based
 * rollout steps, webhook event names in the --json stream.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_EVENT_TYPES, WEBHOOK_EVENT_TYPES } from '../../src/model/output.js';
import { EVENT_TYPES } from '../../src/apply/notify/event.js';
import { bp, engineEnv, ROOT, tempDir, writeFile } from '../helpers/cli.js';
import { camelKeys, expectValid, ndjson, SCHEMAS, validator } from '../helpers/schemas.js';

let t: ReturnType<typeof tempDir>;
const run = (args: string[]) => bp(args, { cwd: t.dir });
const env = (rollout: boolean) =>
  engineEnv({
    provider: join(t.dir, 'provider.json'),
    deployments: [
      { id: 'api', revisions: [{ id: 'api-v1' }], traffic: [['api-v1', 10000]] },
      rollout
        ? { id: 'web', revisions: [{ id: 'web-v1' }, { id: 'web-v2' }], traffic: [['web-v2', 10000]] }
        : { id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] },
    ],
  }) + (rollout ? '    rollout:\n      steps:\n        - weight_bps: 2000\n        - pause: {}\n' : '');

beforeAll(() => {
  t = tempDir();
  writeFile(join(t.dir, 'env.yaml'), env(false));
});
afterAll(() => t.cleanup());

describe('every JSON output validates against its schema', () => {
  it('the schemas compile strictly and the event lists agree', () => {
    expect(readdirSync(SCHEMAS).sort()).toEqual(
      [
        'apply-event',
        'conformance',
        'environment',
        'event',
        'history',
        'plan',
        'planfile',
        'rollout-status',
        'runtime-config',
        'state',
        'state-list',
        'validate',
      ]
        .map((n) => `${n}.schema.json`)
        .sort(),
    );
    for (const f of readdirSync(SCHEMAS)) expect(validator(f), f).toBeTypeOf('function');
    expect(EVENT_TYPES).toBe(WEBHOOK_EVENT_TYPES);
    const webhook = JSON.parse(readFileSync(join(SCHEMAS, 'event.schema.json'), 'utf8')) as {
      properties: { event: { enum: string[] } };
    };
    expect(webhook.properties.event.enum).toEqual([...WEBHOOK_EVENT_TYPES]);
  });

  it('validate --json, valid and invalid', async () => {
    const ok = await run(['validate', 'env.yaml', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expectValid('validate.schema.json', doc);
    expect(doc).toMatchObject({ format_version: 'bp.validate/v1', valid: true, environment_id: 'demo' });
    const bad = await bp(['validate', 'test/fixtures/spec/invalid/traffic-weights.yaml', '--json'], { cwd: ROOT });
    expect(bad.code).toBe(1);
    const badDoc = JSON.parse(bad.stdout);
    expectValid('validate.schema.json', badDoc);
    expect(badDoc.problems.length).toBeGreaterThan(0);
  });

  it('plan --json, the saved plan file and show --json', async () => {
    const p = await run(['plan', 'env.yaml', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout);
    expectValid('plan.schema.json', plan);
    expect(camelKeys(plan)).toEqual([]);
    const saved = await run(['plan', 'env.yaml', '--out', 'saved.json']);
    expect(saved.code, saved.stderr).toBe(0);
    const file = JSON.parse(readFileSync(join(t.dir, 'saved.json'), 'utf8'));
    expectValid('planfile.schema.json', file);
    const shown = await run(['show', 'saved.json', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expectValid('plan.schema.json', JSON.parse(shown.stdout));
  });

  it('apply --json streams webhook-named events, each valid, ending with apply.finished', async () => {
    const a = await run(['apply', 'env.yaml', '--auto-approve', '--json']);
    expect(a.code, a.stderr + a.stdout).toBe(0);
    const lines = ndjson(a.stdout);
    for (const l of lines) expectValid('apply-event.schema.json', l);
    for (const l of lines) expect(STREAM_EVENT_TYPES).toContain(l.event);
    expect(lines.flatMap((l) => camelKeys(l))).toEqual([]);
    const names = lines.map((l) => l.event);
    expect(names[0]).toBe('plan.ready');
    expect(names).toContain('step.started');
    expect(names).toContain('step.succeeded');
    expect(names.at(-1)).toBe('apply.finished');
    expect(lines.at(-1)).toMatchObject({ status: 'succeeded', result: { failed: 0, not_started: 0 } });
  });

  it('state list/show, history and runtime-config', async () => {
    const list = await run(['state', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const l = JSON.parse(list.stdout);
    expectValid('state-list.schema.json', l);
    expect(l.environments.map((e: { environment_id: string }) => e.environment_id)).toEqual(['demo']);

    const show = await run(['state', 'show', 'demo', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const state = JSON.parse(show.stdout);
    expectValid('state.schema.json', state);
    expect(camelKeys(state)).toEqual([]);

    const h = await run(['history', 'demo', '--json']);
    expect(h.code, h.stderr).toBe(0);
    const history = JSON.parse(h.stdout);
    expectValid('history.schema.json', history);
    expect(history.history).toHaveLength(1);

    const rc = await run(['runtime-config', 'demo']);
    expect(rc.code, rc.stderr).toBe(0);
    const config = JSON.parse(rc.stdout);
    expectValid('runtime-config.schema.json', config);
    expect(config.format_version).toBe('bp.runtime-config/v1');
    expect(config).not.toHaveProperty('schema');
  });

  it('rollout status --json counts steps from 1, like the screen; promote streams events', async () => {
    writeFile(join(t.dir, 'env.yaml'), env(true));
    const a = await run(['apply', 'env.yaml', '--auto-approve', '--json']);
    // 4: the apply holds at a rollout pause (src/plan/exit-codes.ts).
    expect(a.code, a.stderr + a.stdout).toBe(4);
    const lines = ndjson(a.stdout);
    for (const l of lines) expectValid('apply-event.schema.json', l);
    expect(lines.at(-1)).toMatchObject({ event: 'apply.finished', status: 'paused' });
    expect(lines.some((l) => l.event === 'rollout.paused' && l.revision_id === 'web-v2')).toBe(true);

    const s = await run(['rollout', 'status', 'demo', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const status = JSON.parse(s.stdout);
    expectValid('rollout-status.schema.json', status);
    // Steps: 1 weight 20%, 2 pause. The rollout waits in the pause: step 2 of 2.
    expect(status.rollouts[0]).toMatchObject({ canary: 'web-v2', status: 'paused', step: 2, steps: 2 });
    const text = await run(['rollout', 'status', 'demo']);
    expect(text.stdout).toMatch(/step 2 of 2/);

    const p = await run(['rollout', 'promote', 'demo', 'web', '--json']);
    expect(p.code, p.stderr + p.stdout).toBe(0);
    const promoted = ndjson(p.stdout);
    for (const l of promoted) expectValid('apply-event.schema.json', l);
    expect(promoted.map((l) => l.event)).toContain('rollout.completed');
    const after = JSON.parse((await run(['rollout', 'status', 'demo', '--json'])).stdout);
    expectValid('rollout-status.schema.json', after);
    expect(after.rollouts[0]).toMatchObject({ status: 'completed', step: 2, steps: 2 });
  });

  it('conformance --json', async () => {
    const plugin = join(ROOT, 'examples', 'plugins', 'memory-deployer.mjs');
    const r = await run(['conformance', plugin, '--json']);
    const report = JSON.parse(r.stdout);
    expectValid('conformance.schema.json', report);
    expect(
      camelKeys(report.checks.map((c: { name: string; status: string }) => ({ ...c, expected: 0, observed: 0 }))),
    ).toEqual([]);
    expect(report.failed, JSON.stringify(report.checks.filter((c: { status: string }) => c.status === 'fail'))).toBe(0);
  }, 120_000);
});
