/**
 * Saved plans are input too: a plan file edited between `bp plan --out` and `bp apply` is
 * refused with one clear sentence, and nothing is deployed. Edits that keep the old digest
 * fail the digest check; edits re-digested (as an attacker would) fail re-validation with the
 * env-file rules (ids, `../..`, control characters, weights).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlanFile } from '../../src/model/plan.js';
import { planFileDigest } from '../../src/plan/saved-plan.js';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let provider: string;
beforeEach(async () => {
  t = tempDir('bp-sec-saved-plan-');
  provider = join(t.dir, 'provider.json');
  writeFile(
    join(t.dir, 'env.yaml'),
    engineEnv({
      provider,
      deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
    }),
  );
  const r = await run(['plan', 'env.yaml', '--out', 'plan.json']);
  expect(r.code, r.stderr).toBe(0);
});
afterEach(() => t.cleanup());

const run = (args: string[]) => bp(args, { cwd: t.dir, env: { BP_STATE_DIR: join(t.dir, 'state') } });
const saved = () => JSON.parse(readFileSync(join(t.dir, 'plan.json'), 'utf8')) as PlanFile;
function save(doc: PlanFile, redigest: boolean): void {
  if (redigest) doc.digest = planFileDigest(doc);
  writeFileSync(join(t.dir, 'plan.json'), JSON.stringify(doc));
}

async function expectRefused(pattern: RegExp): Promise<void> {
  for (const cmd of [
    ['apply', 'plan.json'],
    ['show', 'plan.json'],
  ]) {
    const r = await run(cmd);
    expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(1);
    expect(r.stderr).toMatch(/saved plan .*plan\.json /);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toContain('bp plan ENV_FILE --out');
    expect(r.stderr).not.toMatch(/\n\s+at |\u001b/);
  }
  expect(existsSync(provider)).toBe(false);
}

describe('a saved plan', () => {
  it('carries a sha256 digest of its content and applies untouched', async () => {
    expect(saved().digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await run(['apply', 'plan.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(provider)).toBe(true);
  });

  it('with an edited weight is refused by its digest', async () => {
    const doc = saved();
    const split = doc.plan.steps.find((s) => s.verb === 'apply_traffic_split')!;
    split.split!.after[0].weight_bps = 5;
    save(doc, false);
    await expectRefused(/was changed after bp plan wrote it/);
  });

  it('with an edited id is refused by its digest', async () => {
    const doc = saved();
    doc.plan.steps[0].revision_id = 'web-v2';
    save(doc, false);
    await expectRefused(/was changed after bp plan wrote it/);
  });

  it('without its digest is refused', async () => {
    const doc = saved() as Partial<PlanFile>;
    delete doc.digest;
    writeFileSync(join(t.dir, 'plan.json'), JSON.stringify(doc));
    await expectRefused(/has no digest/);
  });

  it('re-digested with a ../.. id in a step is refused by re-validation', async () => {
    const doc = saved();
    const stage = doc.plan.steps.find((s) => s.verb === 'stage')!;
    stage.revision_id = '../../x';
    stage.id = 'stage:web/../../x';
    save(doc, true);
    await expectRefused(/revision_id "\.\.\/\.\.\/x" is not a valid id/);
  });

  it('re-digested with a ../.. id in its environment is refused by the env file rules', async () => {
    const doc = saved();
    doc.desired.deployments[0].deployment_id = '../..';
    save(doc, true);
    await expectRefused(/has an invalid environment: .*deployment_id/);
  });

  it('re-digested with escape codes is refused', async () => {
    const doc = saved();
    doc.plan.steps[0].reason = 'all fine \u001b[2J\u001b[32mapproved';
    save(doc, true);
    await expectRefused(/contains a control character/);
  });

  it('re-digested with a split that no longer sums to 100% is refused', async () => {
    const doc = saved();
    const split = doc.plan.steps.find((s) => s.verb === 'apply_traffic_split')!;
    split.split!.after[0].weight_bps = 5;
    save(doc, true);
    await expectRefused(/weights sum to 5, not 10000/);
  });
});
