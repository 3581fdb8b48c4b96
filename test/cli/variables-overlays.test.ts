/** bp validate/plan with --var, --var-file, BP_VAR_NAME and --overlay, through bin/bp (fast path and oclif). */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, bp, tempDir, writeFile } from '../helpers/cli.js';

const t = tempDir('bp-vars-');
afterAll(() => t.cleanup());
const base = join(ROOT, 'examples', 'overlays', 'base.yaml');
const prod = join(ROOT, 'examples', 'overlays', 'prod.yaml');
const staging = join(ROOT, 'examples', 'overlays', 'staging.yaml');

async function envId(args: string[], env: Record<string, string> = {}, fastPath = true) {
  const r = await bp(['validate', base, '--json', ...args], {
    cwd: t.dir,
    env: { ...env, ...(fastPath ? {} : { BP_NO_FAST_PATH: '1' }) },
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout).environment_id as string;
}

describe('variables and overlays on the command line', () => {
  it('precedence: file default < BP_VAR_ < --var-file < --var, on both paths', async () => {
    const varFile = writeFile(join(t.dir, 'vars.yaml'), '# from the pipeline\nSTAGE: fromfile\n');
    for (const fast of [true, false]) {
      expect(await envId([], {}, fast)).toBe('shop-dev');
      expect(await envId([], { BP_VAR_STAGE: 'fromenv' }, fast)).toBe('shop-fromenv');
      expect(await envId(['--var-file', varFile], { BP_VAR_STAGE: 'fromenv' }, fast)).toBe('shop-fromfile');
      expect(await envId(['--var-file', varFile, '--var', 'STAGE=cli'], { BP_VAR_STAGE: 'fromenv' }, fast)).toBe(
        'shop-cli',
      );
      expect(await envId(['--overlay', prod], {}, fast)).toBe('shop-prod');
      expect(await envId(['--overlay', staging, '--var', 'STAGE=x'], {}, fast)).toBe('shop-x');
    }
  });

  it('an undefined variable fails validation at FILE:LINE:COL; a bad --var is a usage error', async () => {
    const env = writeFile(
      join(t.dir, 'env.yaml'),
      `schema: bp.environment/v1
environment_id: demo
deployers: { local: { type: docker } }
deployments:
  - deployment_id: web
    deployer: local
    revisions:
      - revision_id: web-v1
        artifact: { image: "ghcr.io/acme/web:\${var:GIT_SHA}" }
    traffic: [{ revision_id: web-v1, weight_bps: 10000 }]
`,
    );
    const r = await bp(['validate', env], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${env}:9:46: variable GIT_SHA is not defined (referenced by artifact.image in revision "web-v1")`,
    );
    const ok = await bp(['validate', env, '--var', 'GIT_SHA=abc'], { cwd: t.dir });
    expect(ok.code).toBe(0);
    const bad = await bp(['validate', env, '--var', 'GIT-SHA'], { cwd: t.dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--var takes NAME=VALUE/);
  });

  it('plan shows substituted values (variables are plain values)', async () => {
    const r = await bp(['plan', base, '--overlay', prod, '--var', 'TAG=v42', '--refresh=false', '--json'], {
      cwd: t.dir,
      env: { BP_STATE_DIR: join(t.dir, 'state') },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.environment_id).toBe('shop-prod');
    expect(JSON.stringify(plan)).toContain('web-v42');
  });

  it('an overlay problem is reported in the overlay', async () => {
    const bad = writeFile(join(t.dir, 'bad.yaml'), 'deployments:\n  - deployment_id: web\n    listen: 7\n');
    const r = await bp(['validate', base, '--overlay', bad], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${bad}:3:13: listen in deployment "web" must be a string`, 'm'));
  });
});
