/**
 * Deployer plugins are code, so bp loads exactly what the env file names: a path relative to
 * the env file, a built-in type by name, or an npm package resolved from the env file's own
 * directory. Never a same-named file in the working directory, never a package planted
 * elsewhere. Every planted plugin here writes a marker file when it is imported.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bp, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir('bp-sec-plugins-');
  mkdirSync(join(t.dir, 'envdir'));
  mkdirSync(join(t.dir, 'cwd'));
});
afterEach(() => t.cleanup());

function plant(path: string, marker: string, pkgName?: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const code = [
    "import { writeFileSync } from 'node:fs';",
    `writeFileSync(${JSON.stringify(join(t.dir, marker))}, 'imported');`,
    "export default { type: 'planted', apiVersion: 1, configSchema: { type: 'object' }, create() { return {}; } };",
    '',
  ].join('\n');
  if (pkgName) {
    mkdirSync(path, { recursive: true });
    writeFile(
      join(path, 'package.json'),
      JSON.stringify({ name: pkgName, version: '1.0.0', type: 'module', main: 'index.js' }),
    );
    writeFile(join(path, 'index.js'), code);
  } else {
    writeFile(path, code);
  }
}

function envNaming(type: string): void {
  writeFile(
    join(t.dir, 'envdir', 'env.yaml'),
    [
      'schema: bp.environment/v1',
      'environment_id: demo',
      'deployers:',
      `  x: { type: ${JSON.stringify(type)} }`,
      'deployments:',
      '  - deployment_id: web',
      '    deployer: x',
      '    revisions:',
      '      - revision_id: web-v1',
      '        artifact: { command: [node, server.js] }',
      '    traffic:',
      '      - { revision_id: web-v1, weight_bps: 10000 }',
      '',
    ].join('\n'),
  );
}

const validate = (env: Record<string, string> = {}) =>
  bp(['validate', '../envdir/env.yaml'], { cwd: join(t.dir, 'cwd'), env });

describe('plugin loading', () => {
  it('a relative plugin path resolves against the env file, not the working directory', async () => {
    plant(join(t.dir, 'envdir', 'plugin.mjs'), 'named');
    plant(join(t.dir, 'cwd', 'plugin.mjs'), 'cwd-copy');
    envNaming('./plugin.mjs');
    const r = await validate();
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(t.dir, 'named'))).toBe(true);
    expect(existsSync(join(t.dir, 'cwd-copy'))).toBe(false);
  });

  it('a package name never resolves from the working directory', async () => {
    plant(join(t.dir, 'cwd', 'node_modules', 'planted-deployer'), 'cwd-package', 'planted-deployer');
    envNaming('planted-deployer');
    const r = await validate();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/planted-deployer.*npm install planted-deployer/);
    expect(existsSync(join(t.dir, 'cwd-package'))).toBe(false);
  });

  it('a package name resolves from the env file directory', async () => {
    plant(join(t.dir, 'envdir', 'node_modules', 'planted-deployer'), 'env-package', 'planted-deployer');
    envNaming('planted-deployer');
    const r = await validate();
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(t.dir, 'env-package'))).toBe(true);
  });

  it('a built-in type name is never shadowed by a package of the same name', async () => {
    plant(join(t.dir, 'envdir', 'node_modules', 'local-process'), 'shadow', 'local-process');
    envNaming('local-process');
    const r = await validate();
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(t.dir, 'shadow'))).toBe(false);
  });

  // Fails today: src/deployers/registry.ts resolves package names with require.resolve, which
  // also searches NODE_PATH and $HOME/.node_modules. The fix is in the report of issue 8.
  it('a package name never resolves from NODE_PATH (outside the env file directory tree)', async () => {
    plant(join(t.dir, 'elsewhere', 'node_modules', 'planted-deployer'), 'node-path-package', 'planted-deployer');
    envNaming('planted-deployer');
    const r = await validate({ NODE_PATH: join(t.dir, 'elsewhere', 'node_modules') });
    expect(existsSync(join(t.dir, 'node-path-package'))).toBe(false);
    expect(r.code).toBe(1);
  });
});
