/**
 * The CLI helps a newcomer: help, suggestions for a mistyped command, complete usage errors,
 * topic descriptions, shell completion, FORCE_COLOR, and saved plans told apart from env files.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closestCommand } from '../../src/cli/suggest.js';
import { colorEnabled } from '../../src/cli/views/style.js';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

let t: ReturnType<typeof tempDir>;
beforeAll(() => {
  t = tempDir();
  writeFile(
    join(t.dir, 'env.yaml'),
    engineEnv({
      provider: join(t.dir, 'provider.json'),
      deployments: [{ id: 'web', revisions: [{ id: 'web-v1' }], traffic: [['web-v1', 10000]] }],
    }),
  );
});
afterAll(() => t.cleanup());

describe('suggestions (pure)', () => {
  const ids = ['apply', 'plan', 'destroy', 'rollout:status', 'rollout:promote', 'state:rm', 'show'];
  it.each([
    [['aply', 'env.yaml'], 'apply', ['env.yaml']],
    [['paln'], 'plan', []],
    [['rollout', 'stauts', 'demo'], 'rollout:status', ['demo']],
    [['state', 'mr', 'demo'], 'state:rm', ['demo']],
    [['xyzzy'], null, []],
    [['sh'], null, []],
  ])('%j -> %s', (words, id, rest) => {
    const m = closestCommand(words as string[], ids);
    expect(m?.id ?? null).toBe(id);
    if (m) expect(m.rest).toEqual(rest);
  });
});

describe('colour decision', () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { TERM: 'dumb' }, false],
    [false, { FORCE_COLOR: '1' }, true],
    [false, { FORCE_COLOR: '' }, true],
    [true, { FORCE_COLOR: '0' }, false],
    [false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
  ])('tty=%s env=%j -> %s', (tty, env, want) => {
    expect(colorEnabled(tty as boolean, env as NodeJS.ProcessEnv)).toBe(want);
  });
});

describe('bp on the command line', () => {
  it('bp help lists topics and commands', async () => {
    const r = await bp(['help'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/TOPICS[\s\S]*rollout\s+Follow and steer progressive rollouts/);
    expect(r.stdout).toMatch(/COMMANDS[\s\S]*apply\s+Run the plan/);
    expect(r.stdout).toMatch(/\n {2}show\s+Show what a saved plan/);
  });

  it('a mistyped command suggests the right one and exits 127', async () => {
    const r = await bp(['aply', 'env.yaml'], { cwd: t.dir });
    expect(r.code).toBe(127);
    expect(r.stderr.trim()).toBe(
      'Error: "aply" is not a bp command. Did you mean "bp apply"? See "bp help" for the list.',
    );
  });

  it('a missing argument is named, with the usage line', async () => {
    const r = await bp(['plan'], { cwd: t.dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      'Error: bp plan needs FILE (env file (YAML)).',
      'Usage: bp plan FILE [flags]; see bp plan --help',
    ]);
  });

  it('the rollout topic has its own description', async () => {
    const r = await bp(['rollout', '--help'], { cwd: t.dir });
    expect(r.stdout.split('\n')[0]).toBe('Follow and steer progressive rollouts: status (--watch), promote, abort.');
  });

  it('shell completion is available', async () => {
    const r = await bp(['autocomplete', 'bash'], {
      cwd: t.dir,
      env: { HOME: t.dir, XDG_CACHE_HOME: join(t.dir, 'c') },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bp autocomplete');
  });

  it('FORCE_COLOR colours output that is not a terminal', async () => {
    const r = await bp(['plan', 'env.yaml'], { cwd: t.dir, env: { FORCE_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\u001b\[32m\+/);
  });

  it('bp plan PLANFILE says it is a saved plan; bp show renders it', async () => {
    expect((await bp(['plan', 'env.yaml', '--out', 'saved.json'], { cwd: t.dir })).code).toBe(0);
    const p = await bp(['plan', 'saved.json'], { cwd: t.dir });
    expect(p.code).toBe(1);
    expect(p.stderr).toBe(
      'Error: saved.json is a saved plan, not an env file: see what it does with bp show saved.json, ' +
        'run it with bp apply saved.json\n',
    );
    const s = await bp(['show', 'saved.json'], { cwd: t.dir });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^Saved plan for environment "demo", made .* \(state serial 0\)\./);
    expect(s.stdout).toContain('+ stage   web/web-v1');
    expect(s.stdout).toContain('Apply exactly this plan with: bp apply saved.json');
    const j = await bp(['show', 'saved.json', '--json'], { cwd: t.dir });
    expect(JSON.parse(j.stdout).steps.map((x: { id: string }) => x.id)).toContain('stage:web/web-v1');
    const notPlan = await bp(['show', 'env.yaml'], { cwd: t.dir });
    expect(notPlan.code).toBe(1);
    expect(notPlan.stderr).toContain('env.yaml is not a saved plan');
  });
});
