/**
 * `bp promote` gated on staging's real recorded state: staging applied with local-process
 * (examples/app behind the router), time injected with BP_NOW for the soak, the prod file
 * edited keeping its comments, refusals naming each reason, `--force` recorded in history.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bp, ROOT, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

const t = tempDir('bp-promote-');
const staging = join(t.dir, 'staging.yaml');
const prod = join(t.dir, 'prod.yaml');
const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const run = (args: string[], minutes: number, env: Record<string, string> = {}) =>
  bp(args, { cwd: t.dir, env: { BP_STATE_DIR: join(t.dir, '.bp'), BP_NOW: at(minutes), ...env } });

const PROD = `# Production: edited by pipelines only through bp.
schema: bp.environment/v1
environment_id: shop-prod
deployers: { local: { type: local-process } }
deployments:
  - deployment_id: web   # the storefront
    deployer: local
    listen: 127.0.0.1:1
    revisions:
      # the release people trust
      - revision_id: web-v1
        artifact: { command: [node, app/server.mjs], env: { VERSION: v1 } }
    traffic:
      - { revision_id: web-v1, weight_bps: 10000 }
`;

beforeAll(async () => {
  mkdirSync(join(t.dir, 'app'));
  copyFileSync(join(ROOT, 'examples', 'app', 'server.mjs'), join(t.dir, 'app', 'server.mjs'));
  const listen = await freePort();
  writeFileSync(
    staging,
    [
      'schema: bp.environment/v1',
      'environment_id: shop-staging',
      'deployers: { local: { type: local-process } }',
      'deployments:',
      '  - deployment_id: web',
      '    deployer: local',
      `    listen: 127.0.0.1:${listen}`,
      '    revisions:',
      '      - revision_id: web-v1',
      '        artifact: { command: [node, app/server.mjs], env: { VERSION: v1 } }',
      '        drain_seconds: 1',
      '    traffic:',
      '      - { revision_id: web-v1, weight_bps: 10000 }',
      '',
    ].join('\n'),
  );
  writeFileSync(prod, PROD);
  const first = await run(['apply', staging, '--auto-approve'], 0);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  // The pipeline's way in: a new revision at 10%, applied an hour later.
  const add = await run(['revision', 'add', staging, 'web', 'web-v2', '--env', 'VERSION=v2', '--weight', '1000'], 60);
  expect(add.code, add.stderr).toBe(0);
  const canary = await run(['apply', staging, '--auto-approve'], 60);
  expect(canary.code, canary.stdout + canary.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await run(['destroy', staging, '--auto-approve'], 200).catch(() => undefined);
  t.cleanup();
}, 60_000);

describe('bp promote', () => {
  it('refuses a revision that has not soaked long enough, leaving the prod file untouched', async () => {
    const r = await run(['promote', 'web-v2', '--from', staging, '--to', prod, '--min-soak', '30m'], 70);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /refusing to promote web-v2 from "shop-staging" to .*prod\.yaml: it has carried traffic for (9|10)m\d*s? \(since 2026-03-01T11:00:\d\d\.\d+Z\), less than --min-soak 30m/,
    );
    expect(readFileSync(prod, 'utf8')).toBe(PROD);
  }, 60_000);

  it('refuses a revision staging never ran', async () => {
    const r = await run(['promote', 'web-v9', '--from', staging, '--to', prod], 70);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /neither .*staging\.yaml nor the recorded state of "shop-staging" has a revision "web-v9"/,
    );
  }, 60_000);

  it('copies the recorded definition into prod once soaked: comments kept, diff printed, history recorded', async () => {
    const r = await run(
      ['promote', 'web-v2', '--from', staging, '--to', prod, '--min-soak', '30m', '--weight', '1000'],
      95,
      { GITHUB_SHA: 'cafe1234' },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\+\s+- revision_id: web-v2$/m);
    expect(r.stdout).toMatch(
      /Promoted web-v2 to .*prod\.yaml: ready in "shop-staging" and carrying traffic since 2026-03-01T11:00/,
    );
    const text = readFileSync(prod, 'utf8');
    // Every comment and untouched line kept byte for byte.
    for (const line of PROD.split('\n').filter((l) => l.includes('#') || l.includes('listen')))
      expect(text).toContain(line);
    expect(text).toMatch(/revision_id: web-v2\n\s+artifact:[\s\S]*VERSION: v2[\s\S]*drain_seconds: 1/);
    expect(text).toMatch(
      /- \{ revision_id: web-v1, weight_bps: 9000 \}\n\s+- \{ revision_id: web-v2, weight_bps: 1000 \}/,
    );
    expect((await run(['validate', prod], 95)).code).toBe(0);
    const history = JSON.parse((await run(['history', 'shop-staging', '--json'], 95)).stdout).history;
    expect(history.at(-1)).toMatchObject({
      operation: 'promote',
      outcome: 'recorded',
      actor: { ci: { GITHUB_SHA: 'cafe1234' } },
      splits: {
        web: [
          { revision_id: 'web-v1', weight_bps: 9000 },
          { revision_id: 'web-v2', weight_bps: 1000 },
        ],
      },
    });
    expect(history.at(-1).note).toMatch(/^promoted web-v2 to .*prod\.yaml at 10%$/);
    // Promoting again is refused by the prod file: revisions are immutable.
    const again = await run(['promote', 'web-v2', '--from', staging, '--to', prod], 95);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has a revision "web-v2"/);
  }, 60_000);

  it('refuses a rolled-back revision, naming every reason; --force overrides and is recorded', async () => {
    const rb = await run(['rollback', 'shop-staging', 'web'], 100);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    const prod2 = join(t.dir, 'prod2.yaml');
    writeFileSync(prod2, PROD);
    const refused = await run(['promote', 'web-v2', '--from', staging, '--to', prod2], 300);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/revision web-v2 is inactive in "shop-staging", not ready/);
    expect(refused.stderr).toMatch(/its rollout in "shop-staging" is rolled back: rolled back by an operator/);
    expect(refused.stderr).toMatch(/it carries no traffic in "shop-staging"/);
    expect(readFileSync(prod2, 'utf8')).toBe(PROD);

    const forced = await run(['promote', 'web-v2', '--from', staging, '--to', prod2, '--force'], 300);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Promoted web-v2 to .*prod2\.yaml with --force/);
    expect(readFileSync(prod2, 'utf8')).toMatch(/revision_id: web-v2/);
    const history = JSON.parse((await run(['history', 'shop-staging', '--json'], 300)).stdout).history;
    expect(history.at(-1).operation).toBe('promote');
    expect(history.at(-1).note).toMatch(/forced past: revision web-v2 is inactive.*rolled back.*carries no traffic/);
  }, 60_000);
});
