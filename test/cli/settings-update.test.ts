/**
 * A rollout strategy or notifications change, end to end: `bp plan` shows it as update steps with
 * old -> new (text, JSON valid against its schema, markdown), `bp apply` records it in state and
 * history without the webhook's token, and the next plan says No changes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';
import { expectValid } from '../helpers/schemas.js';

let t: ReturnType<typeof tempDir>;
const run = (args: string[]) => bp(args, { cwd: t.dir });

function envFile(o: { pause: string; onFailure: string; token: string; events: string }): string {
  return (
    engineEnv({
      provider: join(t.dir, 'provider.json'),
      deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
    }) +
    '    rollout:\n' +
    `      on_failure: ${o.onFailure}\n` +
    '      steps:\n' +
    '        - weight_bps: 2000\n' +
    `        - pause: ${o.pause}\n` +
    'notifications:\n' +
    `  - url: https://hooks.example.com/services/T0/B0/${o.token}\n` +
    `    events: ${o.events}\n`
  );
}

const BEFORE = { pause: '2m', onFailure: 'rollback', token: 'tokenAAAAAAAA', events: '[revision.expired]' };
const AFTER = { pause: '5m', onFailure: 'pause', token: 'tokenBBBBBBBB', events: '["revision.*"]' };

beforeAll(async () => {
  t = tempDir('bp-settings-');
  writeFile(join(t.dir, 'env.yaml'), envFile(BEFORE));
  const first = await run(['apply', 'env.yaml', '--auto-approve']);
  expect(first.code, first.stderr).toBe(0);
  writeFile(join(t.dir, 'env.yaml'), envFile(AFTER));
});
afterAll(() => t.cleanup());

describe('settings update steps through the CLI', () => {
  it('bp plan shows old -> new per field, the webhook token masked', async () => {
    const p = await run(['plan', 'env.yaml']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.replace(/sha256:[0-9a-f]{12}/g, 'sha256:…')).toMatchInlineSnapshot(`
      "bp will perform the following actions on environment "demo":

        # environment
        ~ update  environment
                  notifications[0].events: ["revision.expired"] -> ["revision.*"]
                  notifications[0].url: "https://hooks.example.com/… (sha256:…)" -> "https://hooks.example.com/… (sha256:…)"

        # deployment web
        ~ update  web
                  rollout.on_failure: "rollback" -> "pause"
                  rollout.steps[1].pause.duration: "2m" -> "5m"

      Plan: 0 to stage, 0 to warm, 2 to update, 0 splits to apply, 0 to drain, 0 to archive.
      "
    `);
    expect(p.stdout).not.toMatch(/token[AB]/);
  });

  it('bp plan --json validates against schemas/plan.schema.json; markdown lists the changes', async () => {
    const j = await run(['plan', 'env.yaml', '--json']);
    const doc = JSON.parse(j.stdout);
    expectValid('plan.schema.json', doc);
    expect(doc.steps.map((s: { id: string }) => s.id)).toEqual(['update:@environment', 'update:web']);
    expect(doc.summary.update).toBe(2);
    const url = doc.steps[0].changes.find((c: { field: string }) => c.field === 'notifications[0].url');
    expect(url.old).not.toBe(url.new); // the token changed: its fingerprint did too
    const md = await run(['plan', 'env.yaml', '--format', 'markdown']);
    expect(md.stdout).toContain('| 1 | ✏️ update | `environment` |');
    expect(md.stdout).toContain('rollout.steps[1].pause.duration: "2m" -> "5m"');
    expect(md.stdout).not.toMatch(/token[AB]/);
  });

  it('bp apply records both, with a history entry; the next plan has no changes', async () => {
    const a = await run(['apply', 'env.yaml', '--auto-approve']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('environment: updated');
    expect(a.stdout).toContain('web: updated');

    const state = JSON.parse((await run(['state', 'show', 'demo', '--json'])).stdout);
    expect(state.deployments.web.rollout_strategy).toEqual({
      steps: [{ weight_bps: 2000 }, { pause: { duration: '5m' } }],
      on_failure: 'pause',
    });
    expect(state.notifications).toEqual([
      {
        url: expect.stringMatching(/^https:\/\/hooks\.example\.com\/… \(sha256:[0-9a-f]{12}\)$/),
        events: ['revision.*'],
      },
    ]);

    const h = await run(['history', 'demo', '--json']);
    const history = JSON.parse(h.stdout);
    expectValid('history.schema.json', history);
    const last = history.history[history.history.length - 1];
    expect(Object.keys(last.updated)).toEqual(['update:@environment', 'update:web']);
    expect(last.updated['update:web']).toContainEqual({
      field: 'rollout.steps[1].pause.duration',
      old: '2m',
      new: '5m',
    });
    expect((await run(['history', 'demo'])).stdout).toContain('update:web: rollout.on_failure: "rollback" -> "pause"');
    expect(JSON.stringify([state, history])).not.toMatch(/token[AB]/);

    const again = await run(['plan', 'env.yaml']);
    expect(again.stdout).toContain('No changes.');
  });
});
