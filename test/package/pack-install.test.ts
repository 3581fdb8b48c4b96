/**
 * The package as users install it (bench/pack-install.ts): the packed tarball installed
 * globally with --omit=optional into a temporary prefix, no cloud SDK, at most 60 MB, and
 * the installed `bp` runs. Reaches the npm registry for the dependencies.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_MB, packAndInstall, type InstalledPackage } from '../../bench/pack-install.js';
import { collect, ROOT } from '../helpers/cli.js';
import { spawn } from 'node:child_process';

let pkg: InstalledPackage;
let cwd: string;
const installed = (args: string[]) =>
  collect(spawn(pkg.bin, args, { cwd, env: { ...process.env, BP_STATE_DIR: join(cwd, '.bp') } }));

beforeAll(() => {
  pkg = packAndInstall();
  cwd = mkdtempSync(join(tmpdir(), 'bp-installed-'));
}, 600_000);
afterAll(() => {
  pkg?.cleanup();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('npm pack + npm install -g --omit=optional', () => {
  it(`installs at most ${LIMIT_MB} MB, without the cloud SDKs`, () => {
    expect(pkg.installedBytes).toBeGreaterThan(1024 * 1024);
    expect(pkg.installedBytes).toBeLessThanOrEqual(LIMIT_MB * 1024 * 1024);
    const modules = join(pkg.prefix, 'lib', 'node_modules', 'bp-deploy', 'node_modules');
    for (const sdk of [
      '@aws-sdk/client-ec2',
      '@azure/arm-compute',
      '@google-cloud/compute',
      '@kubernetes/client-node',
    ]) {
      expect(existsSync(join(modules, sdk)), sdk).toBe(false);
    }
    expect(existsSync(join(pkg.prefix, 'lib', 'node_modules', 'bp-deploy', 'schemas', 'plan.schema.json'))).toBe(true);
  });

  it('runs bp --version and bp validate examples/env.yaml from the installed copy', async () => {
    const v = await installed(['--version']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^bp\/0\.\d+\.\d+ /);
    const ok = await installed(['validate', join(ROOT, 'examples', 'env.yaml')]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/valid \(environment "demo"/);
    expect(ok.code).toBe(0);
  });

  it('plans a local-process environment, and names the SDK to install for a cloud deployer', async () => {
    const plan = await installed(['plan', join(ROOT, 'examples', 'env.yaml'), '--refresh=false']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/stage/);
    writeFileSync(
      join(cwd, 'k8s.yaml'),
      [
        'schema: bp.environment/v1',
        'environment_id: kube',
        'deployers:',
        '  kube: { type: k8s, config: { namespace: default } }',
        'deployments:',
        '  - deployment_id: web',
        '    deployer: kube',
        '    revisions:',
        '      - { revision_id: web-v1, artifact: { image: nginx } }',
        '    traffic:',
        '      - { revision_id: web-v1, weight_bps: 10000 }',
        '',
      ].join('\n'),
    );
    const k8s = await installed(['apply', 'k8s.yaml', '--auto-approve']);
    expect(k8s.code).toBe(1);
    expect(k8s.stdout).toMatch(
      /needs the @kubernetes\/client-node package, which is not installed; run: npm install @kubernetes\/client-node/,
    );
  });
});
