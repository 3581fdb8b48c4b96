/**
 * Plugin trust (docs/security.md): `bp plugins lock` pins plugins by sha256 in bp.lock.json
 * beside the env file; validate, plan and apply refuse a plugin missing from the lock or
 * changed since, and a path outside the env file's tree unless it is locked. `bp validate
 * --no-plugins` never imports plugin code. Every plugin here writes a marker file when
 * imported, so "refused" also means "never ran".
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bp, ENGINE_DEPLOYER, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
let envDir: string;
beforeEach(() => {
  t = tempDir('bp-sec-lock-');
  envDir = join(t.dir, 'project');
  mkdirSync(envDir);
});
afterEach(() => t.cleanup());

/** A valid plugin whose import writes `marker` (in the test folder). */
function plugin(path: string, marker: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(
    path,
    [
      "import { writeFileSync } from 'node:fs';",
      `writeFileSync(${JSON.stringify(join(t.dir, marker))}, 'imported');`,
      "export default { type: 'planted', apiVersion: 1, configSchema: { type: 'object', properties: { size: { type: 'integer' } } }, create() { return {}; } };",
      '',
    ].join('\n'),
  );
}

function env(type: string, opts: { weight?: number; config?: string } = {}): string {
  const file = join(envDir, 'env.yaml');
  writeFile(
    file,
    [
      'schema: bp.environment/v1',
      'environment_id: demo',
      'deployers:',
      `  x: { type: ${JSON.stringify(type)}${opts.config ? `, config: ${opts.config}` : ''} }`,
      'deployments:',
      '  - deployment_id: web',
      '    deployer: x',
      '    revisions:',
      '      - revision_id: web-v1',
      '        artifact: { command: [node, server.js] }',
      '    traffic:',
      `      - { revision_id: web-v1, weight_bps: ${opts.weight ?? 10000} }`,
      '',
    ].join('\n'),
  );
  return file;
}

// No BP_TRUSTED_PLUGIN_DIRS: these tests are about what the files alone allow.
const run = (args: string[]) => bp(args, { cwd: envDir, env: { BP_TRUSTED_PLUGIN_DIRS: undefined } });
const imported = (marker: string) => existsSync(join(t.dir, marker));

describe('plugin lock', () => {
  it('refuses a plugin path outside the env file folder until it is locked, then loads it', async () => {
    plugin(join(t.dir, 'elsewhere', 'evil.mjs'), 'outside');
    env('../elsewhere/evil.mjs');
    for (const cmd of [['validate'], ['plan', '--state-dir', join(t.dir, 'state')]]) {
      const r = await run([...cmd, 'env.yaml']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('outside the env file');
      expect(r.stderr).toContain('bp plugins lock');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(imported('outside')).toBe(false);

    const lock = await run(['plugins', 'lock', 'env.yaml']);
    expect(lock.code, lock.stderr).toBe(0);
    expect(imported('outside')).toBe(false);
    const written = JSON.parse(readFileSync(join(envDir, 'bp.lock.json'), 'utf8'));
    expect(written.format_version).toBe('bp.lock/v1');
    expect(written.plugins['../elsewhere/evil.mjs']).toMatchObject({
      kind: 'path',
      path: join(t.dir, 'elsewhere', 'evil.mjs'),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const r = await run(['validate', 'env.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(imported('outside')).toBe(true);
  });

  it('refuses a locked plugin whose code changed, in validate, plan and apply, naming both hashes', async () => {
    plugin(join(envDir, 'plugins', 'x.mjs'), 'first');
    env('./plugins/x.mjs');
    expect((await run(['plugins', 'lock', 'env.yaml'])).code).toBe(0);
    plugin(join(envDir, 'plugins', 'x.mjs'), 'changed');
    for (const cmd of [
      ['validate', 'env.yaml'],
      ['plan', 'env.yaml', '--state-dir', join(t.dir, 'state')],
      ['apply', 'env.yaml', '--auto-approve', '--state-dir', join(t.dir, 'state')],
    ]) {
      const r = await run(cmd);
      expect(r.code, cmd.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/changed since it was locked: sha256 [0-9a-f]{64}, locked [0-9a-f]{64}/);
      expect(r.stderr).toContain('bp plugins lock');
    }
    expect(imported('changed')).toBe(false);
    // Accepting the change is re-locking.
    const relock = await run(['plugins', 'lock', 'env.yaml']);
    expect(relock.stdout).toMatch(/^updated: \.\/plugins\/x\.mjs/m);
    expect((await run(['validate', 'env.yaml'])).code).toBe(0);
    expect(imported('changed')).toBe(true);
  });

  it('once a lock exists, an in-tree plugin missing from it is refused', async () => {
    plugin(join(envDir, 'a.mjs'), 'a');
    plugin(join(envDir, 'b.mjs'), 'b');
    env('./a.mjs');
    expect((await run(['plugins', 'lock', 'env.yaml'])).code).toBe(0);
    env('./b.mjs');
    const r = await run(['validate', 'env.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"./b.mjs" is not in the plugin lock');
    expect(imported('b')).toBe(false);
  });

  it('locks a package by name and version from the project node_modules', async () => {
    const pkg = join(envDir, 'node_modules', 'acme-deployer');
    mkdirSync(pkg, { recursive: true });
    writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'acme-deployer', version: '2.3.4', type: 'module', main: 'index.js' }),
    );
    plugin(join(pkg, 'index.js'), 'pkg');
    env('acme-deployer');
    const lock = await run(['plugins', 'lock', 'env.yaml']);
    expect(lock.code, lock.stderr).toBe(0);
    expect(lock.stdout).toContain('acme-deployer@2.3.4');
    const written = JSON.parse(readFileSync(join(envDir, 'bp.lock.json'), 'utf8'));
    expect(written.plugins['acme-deployer']).toMatchObject({
      kind: 'package',
      package: 'acme-deployer',
      version: '2.3.4',
      path: 'node_modules/acme-deployer',
    });
    // Any file of the package counts, not only its entry point.
    writeFile(join(pkg, 'helper.js'), 'export const x = 1;\n');
    const r = await run(['validate', 'env.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('changed since it was locked');
    expect(imported('pkg')).toBe(false);
  });

  it('built-in deployers need no lock, even when a lock exists', async () => {
    writeFile(join(envDir, 'bp.lock.json'), JSON.stringify({ format_version: 'bp.lock/v1', plugins: {} }));
    env('local-process');
    const r = await run(['validate', 'env.yaml']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a saved plan whose plugin changed since it was locked is refused at apply', async () => {
    copyFileSync(ENGINE_DEPLOYER, join(envDir, 'engine.mjs'));
    writeFile(
      join(envDir, 'env.yaml'),
      engineEnv({
        provider: join(t.dir, 'provider.json'),
        deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
      }).replace(JSON.stringify(ENGINE_DEPLOYER), './engine.mjs'),
    );
    expect((await run(['plugins', 'lock', 'env.yaml'])).code).toBe(0);
    const state = ['--state-dir', join(t.dir, 'state')];
    const plan = await run(['plan', 'env.yaml', '--out', 'p.json', ...state]);
    expect(plan.code, plan.stderr).toBe(0);
    appendFileSync(join(envDir, 'engine.mjs'), '\n// edited after the plan was made\n');
    const r = await run(['apply', 'p.json', ...state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('changed since it was locked');
    expect(existsSync(join(t.dir, 'provider.json'))).toBe(false);
  });
});

describe('bp validate --no-plugins', () => {
  it('never imports plugin code, yet checks everything else', async () => {
    plugin(join(envDir, 'plugin.mjs'), 'marker');
    env('./plugin.mjs', { config: '{ size: "not a number" }' });
    const ok = await run(['validate', '--no-plugins', 'env.yaml']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(imported('marker')).toBe(false);

    env('./plugin.mjs', { weight: 9000 });
    const bad = await run(['validate', '--no-plugins', 'env.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/env\.yaml:\d+:\d+: .*10000/);
    expect(imported('marker')).toBe(false);
  });

  it('still refuses an unlocked plugin from outside the tree, without importing it', async () => {
    plugin(join(t.dir, 'elsewhere', 'evil.mjs'), 'outside');
    env('../elsewhere/evil.mjs');
    const r = await run(['validate', '--no-plugins', 'env.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bp plugins lock');
    expect(imported('outside')).toBe(false);
  });

  it('still checks built-in deployer configs', async () => {
    env('local-process', { config: '{ no_such_option: 1 }' });
    const r = await run(['validate', '--no-plugins', 'env.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no_such_option');
  });
});
