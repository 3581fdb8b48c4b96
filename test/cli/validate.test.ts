/**
 * Every invalid-input class (docs/design.md#validation-rules) through the real CLI: exit 1, and stderr is
 * exactly the FILE:LINE:COL lines the spec layer finds, no stack trace, nothing else.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, formatProblem } from '../../src/model/errors.js';
import { parseEnvironment } from '../../src/spec/index.js';
import { ROOT, bp, tempDir } from '../helpers/cli.js';

const invalidDir = join(ROOT, 'test', 'fixtures', 'spec', 'invalid');

function expectedLines(name: string): string[] {
  const file = `test/fixtures/spec/invalid/${name}`;
  try {
    parseEnvironment(readFileSync(join(invalidDir, name), 'utf8'), file);
  } catch (e) {
    if (e instanceof InvalidInputError) return e.problems.map(formatProblem);
    throw e;
  }
  throw new Error(`${name} unexpectedly parsed`);
}

describe('bp validate', () => {
  const names = readdirSync(invalidDir)
    .filter((n) => n.endsWith('.yaml'))
    .sort();

  it('reports every problem of every invalid-input class as FILE:LINE:COL and exits 1', async () => {
    expect(names.length).toBeGreaterThanOrEqual(15);
    const results = await Promise.all(
      names.map(async (name) => ({
        name,
        r: await bp(['validate', `test/fixtures/spec/invalid/${name}`], { cwd: ROOT }),
      })),
    );
    for (const { name, r } of results) {
      expect(r.code, name).toBe(1);
      expect(r.stdout, name).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, name).toEqual(expectedLines(name));
      for (const line of lines) expect(line, name).toMatch(/^test\/fixtures\/spec\/invalid\/[\w-]+\.yaml:\d+:\d+: \S/);
    }
  });

  it('--json lists the problems with file, line, column and message', async () => {
    const r = await bp(['validate', 'test/fixtures/spec/invalid/traffic-weights.yaml', '--json'], { cwd: ROOT });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ format_version: 'bp.validate/v1', valid: false });
    expect(doc.problems.map(formatProblem)).toEqual(expectedLines('traffic-weights.yaml'));
  });

  it('accepts the valid fixtures and the examples', async () => {
    const files = [
      // Fixtures whose deployer configs are meant for the real built-in deployers.
      ...['contract-example.yaml', 'minimal.yaml'].map((n) => `test/fixtures/spec/valid/${n}`),
      'examples/env.yaml',
      'examples/env-promote.yaml',
    ];
    for (const f of files) {
      const r = await bp(['validate', f], { cwd: ROOT });
      expect(r.stderr, f).toBe('');
      expect(r.code, f).toBe(0);
      expect(r.stdout, f).toMatch(/: valid \(environment "/);
    }
  });

  it('reports a deployer plugin that cannot load, or has a bad config, at its position', async () => {
    const t = tempDir();
    try {
      writeFileSync(
        join(t.dir, 'old-plugin.mjs'),
        'export default { type: "old", apiVersion: 0, configSchema: {}, create() { return {}; } };\n',
      );
      const env = (deployers: string) =>
        [
          'schema: bp.environment/v1',
          'environment_id: demo',
          'deployers:',
          deployers,
          'deployments:',
          '  - deployment_id: web',
          '    deployer: a',
          '    revisions:',
          '      - revision_id: web-v1',
          '        artifact: { command: [node, server.js] }',
          '    traffic: [{ revision_id: web-v1, weight_bps: 10000 }]',
          '',
        ].join('\n');
      writeFileSync(
        join(t.dir, 'env.yaml'),
        env(
          [
            '  a:',
            '    type: ./old-plugin.mjs',
            '  b:',
            '    type: no-such-bp-deployer-package',
            '  c:',
            '    type: local-process',
            '    config: { bind_host: 7 }',
          ].join('\n'),
        ),
      );
      const r = await bp(['validate', 'env.yaml'], { cwd: t.dir });
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^env\.yaml:5:11: .*apiVersion 0; this bp supports apiVersion 1/);
      expect(lines[1]).toMatch(
        /^env\.yaml:7:11: .*"no-such-bp-deployer-package" is neither a built-in type .* npm install no-such-bp-deployer-package/,
      );
      expect(lines[2]).toMatch(/^env\.yaml:10:\d+: .*bind_host/);
    } finally {
      t.cleanup();
    }
  });
});
