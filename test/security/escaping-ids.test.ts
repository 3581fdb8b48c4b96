/**
 * Ids name directories, files, processes and URLs, so an id that could escape (`..`, `/`,
 * `\`, shell metacharacters, control characters) or collide with JavaScript object
 * properties is refused by the schema before anything runs, in every place an id is declared.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors.js';
import { parseEnvironment } from '../../src/spec/index.js';
import { bp, tempDir, writeFile } from '../helpers/cli.js';

const HOSTILE = [
  '..',
  '.',
  '../x',
  'a/../../b',
  '/etc',
  'a/b',
  'a\\b',
  'C:\\x',
  '.bp',
  '-rf',
  '$(id)',
  '`id`',
  '${HOME}',
  'a;b',
  'a|b',
  'a&b',
  'a>b',
  "a'b",
  'a"b',
  'a b',
  'a\tb',
  'a\nb',
  'a\u0000b',
  '*',
  '~root',
  'x'.repeat(64),
  '',
  'ä',
  '⁄etc',
  '__proto__',
  'constructor',
  'toString',
];

function envWith(place: 'environment_id' | 'deployer' | 'deployment_id' | 'revision_id', id: string): string {
  const q = JSON.stringify(id);
  const deployer = place === 'deployer' ? q : 'local';
  const dep = place === 'deployment_id' ? q : 'web';
  const rev = place === 'revision_id' ? q : 'web-v1';
  return [
    'schema: bp.environment/v1',
    `environment_id: ${place === 'environment_id' ? q : 'demo'}`,
    'deployers:',
    `  ${deployer}: { type: local-process }`,
    'deployments:',
    `  - deployment_id: ${dep}`,
    `    deployer: ${deployer}`,
    '    revisions:',
    `      - revision_id: ${rev}`,
    '        artifact: { command: [node, server.js] }',
    '    traffic:',
    `      - { revision_id: ${rev}, weight_bps: 10000 }`,
    '',
  ].join('\n');
}

function problemsOf(text: string): string[] {
  try {
    parseEnvironment(text, 'env.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as InvalidInputError).message.split('\n');
  }
  return [];
}

describe('ids that could escape are rejected by the schema', () => {
  for (const place of ['environment_id', 'deployer', 'deployment_id', 'revision_id'] as const) {
    it(`${place}: every hostile id is refused at its own line`, () => {
      const line = { environment_id: 2, deployer: 4, deployment_id: 6, revision_id: 9 }[place];
      for (const id of HOSTILE) {
        const problems = problemsOf(envWith(place, id));
        expect(problems.length, `${place} ${JSON.stringify(id)} was accepted`).toBeGreaterThan(0);
        expect(
          problems.some((p) => p.startsWith(`env.yaml:${line}:`)),
          `${JSON.stringify(id)}: ${problems.join(' | ')}`,
        ).toBe(true);
      }
    });
  }

  it('accepts the ordinary ids next to them (the rejection is not blanket)', () => {
    for (const place of ['environment_id', 'deployer', 'deployment_id', 'revision_id'] as const) {
      for (const id of ['web', 'web-v2', 'a.b_c-1', 'X9', 'x'.repeat(63)])
        expect(problemsOf(envWith(place, id)), `${place} ${id}`).toEqual([]);
    }
  });

  it('state commands refuse an environment id that could escape the state directory', async () => {
    const t = tempDir('bp-sec-');
    try {
      for (const id of ['..', '../../etc', 'a/b', '.']) {
        const r = await bp(['state', 'show', id], { cwd: t.dir });
        expect(r.code, id).toBe(1);
        expect(r.stderr, id).toMatch(/not a valid environment id/);
        expect(r.stderr).not.toMatch(/^\s+at /m);
      }
      const unlock = await bp(['runtime-config', '../x'], { cwd: t.dir });
      expect(unlock.code).toBe(1);
      writeFile(`${t.dir}/env.yaml`, envWith('environment_id', '../../tmp/owned'));
      const plan = await bp(['plan', 'env.yaml'], { cwd: t.dir });
      expect(plan.code).toBe(1);
      expect(plan.stderr).toMatch(/^env\.yaml:2:\d+: environment_id must be a valid id/m);
    } finally {
      t.cleanup();
    }
  });
});
