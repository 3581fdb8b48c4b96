/** `bp plan --format markdown`: a plan as a pull-request comment. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan, PlanStep } from '../../src/model/plan.js';
import { cell, renderPlanMarkdown } from '../../src/cli/views/plan-markdown.js';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

const t = tempDir('bp-plan-md-');
afterAll(() => t.cleanup());

const base: Plan = {
  format_version: 'bp.plan/v1',
  environment_id: 'shop',
  prior: { lineage: null, serial: 0 },
  changes: false,
  steps: [],
  summary: { stage: 0, warm: 0, update: 0, apply_traffic_split: 0, drain: 0, archive: 0 },
  drift: [],
  expired: [],
  targets: [],
  destroy: false,
  rollouts: [],
};

describe('renderPlanMarkdown', () => {
  it('renders steps as a table, splits as before -> after, stage details collapsed', () => {
    const stage: PlanStep = {
      id: 'stage:web/v2',
      verb: 'stage',
      deployment_id: 'web',
      revision_id: 'v2',
      depends_on: [],
      reason: 'new revision',
      from: 'inactive',
      to: 'staged',
      deploys: {
        image: 'ghcr.io/acme/web:2',
        env: { TOKEN: '(sensitive)' },
        resources: { cpu: 1, memory_mb: 256, replicas: 2, gpu: 0 },
        health: { http_path: '/healthz', timeout_seconds: 30 },
        drain_seconds: 5,
        ttl: null,
      },
    };
    const split: PlanStep = {
      id: 'split:web',
      verb: 'apply_traffic_split',
      deployment_id: 'web',
      revision_id: null,
      depends_on: ['stage:web/v2'],
      reason: 'weights | changed',
      split: {
        before: [{ revision_id: 'v1', weight_bps: 10000 }],
        after: [
          { revision_id: 'v1', weight_bps: 9000 },
          { revision_id: 'v2', weight_bps: 1000 },
        ],
      },
    };
    const md = renderPlanMarkdown({
      ...base,
      changes: true,
      steps: [stage, split],
      summary: { ...base.summary, stage: 1, apply_traffic_split: 1 },
    });
    expect(md).toMatch(/^### bp plan: `shop`\n/);
    expect(md).toContain('**Plan:** 1 to stage, 0 to warm, 1 split to apply, 0 to drain, 0 to archive.');
    expect(md).toContain('| | step | target | change | why |\n|---|---|---|---|---|');
    expect(md).toMatch(/\| 1 \| .*stage \| `web\/v2` \| inactive → staged \| new revision \|/);
    // A pipe in a cell is escaped: the table keeps its columns.
    expect(md).toMatch(/\| 2 \| .*split \| `web` \| v1 100% -&gt; 90%, v2 0% -&gt; 10% \| weights \\\| changed \|/);
    expect(md).toContain('<details><summary>What the steps deploy</summary>');
    expect(md).toContain('image: ghcr.io/acme/web:2');
    expect(md).toContain('env: TOKEN=(sensitive)');
  });

  it('calls out diverged and waiting rollouts, and says when nothing changes', () => {
    const md = renderPlanMarkdown({
      ...base,
      rollouts: [
        {
          deployment_id: 'web',
          canary: 'v2',
          status: 'rolled_back',
          step: 0,
          steps: 0,
          weight_bps: 0,
          diverged: true,
          message: 'rolled back by an operator',
        },
        {
          deployment_id: 'api',
          canary: 'a2',
          status: 'paused',
          step: 1,
          steps: 3,
          weight_bps: 1000,
          diverged: false,
          waiting: true,
          message: 'paused until promoted',
        },
      ],
    });
    expect(md).toContain('> [!WARNING]\n> **Diverged**: rollout `web/v2` rolled back: rolled back by an operator');
    expect(md).toContain('> [!NOTE]\n> **Waiting**: rollout `api/a2`: paused until promoted');
    expect(md).toContain('**No changes.** The environment matches the configuration (except as above).');
  });

  it('escapes what would break a table or inject HTML', () => {
    expect(cell('a|b\n<script>')).toBe('a\\|b &lt;script&gt;');
  });
});

describe('bp plan --format markdown', () => {
  it('prints the markdown plan, saves the plan with --out, and keeps --detailed-exitcode', async () => {
    const env = writeFile(
      join(t.dir, 'env.yaml'),
      engineEnv({
        envId: 'md',
        provider: join(t.dir, 'provider.json'),
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      }),
    );
    const r = await bp(['plan', env, '--format', 'markdown', '--out', 'p.json', '--detailed-exitcode'], {
      cwd: t.dir,
      env: { BP_STATE_DIR: join(t.dir, 'state') },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^### bp plan: `md`\n/);
    expect(r.stdout).toMatch(/\| 1 \| .*stage \| `web\/web-v1` \|/);
    expect(r.stdout).toContain('Saved as `p.json`: `bp apply p.json` applies exactly this plan.');
    const applied = await bp(['apply', 'p.json'], { cwd: t.dir, env: { BP_STATE_DIR: join(t.dir, 'state') } });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  });
});
