/**
 * bin/bp runs plan/apply/destroy/validate without oclif when the command line is plain. That
 * fast path must parse exactly the flags the oclif commands declare, and a command must behave
 * the same either way (output, exit code); anything unusual must still reach oclif.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BP, ROOT, bp, engineEnv, readProvider, tempDir } from '../helpers/cli.js';

type FlagSpec = {
  type: string;
  multiple: boolean;
  default: unknown;
  options: string[] | null;
  env: string | null;
  integer?: boolean;
};

/** The table between the markers in bin/bp, evaluated on its own. */
function fastTable(): Record<string, { flags: Record<string, FlagSpec> }> {
  const text = readFileSync(BP, 'utf8');
  const table = /\/\/ fast-path-table:start\n([\s\S]*?)\/\/ fast-path-table:end/.exec(text)?.[1];
  if (!table) throw new Error('bin/bp has no fast-path table');
  return new Function(`${table}\nreturn FAST_COMMANDS;`)() as Record<string, { flags: Record<string, FlagSpec> }>;
}

// Records, when the process exits, whether @oclif/core was ever loaded.
const t = tempDir('bp-fast-');
afterAll(() => t.cleanup());
const probe = join(t.dir, 'probe.cjs');
writeFileSync(
  probe,
  "process.on('exit', () => process.stderr.write(Object.keys(require.cache).some((k) => k.includes('@oclif')) ? 'PROBE:oclif\\n' : 'PROBE:fast\\n'));\n",
);

async function both(args: string[], cwd: string, env: Record<string, string> = {}) {
  const withProbe = (extra: Record<string, string>) => ({
    cwd,
    env: { ...env, ...extra, NODE_OPTIONS: `--require ${probe}` },
  });
  const fast = await bp(args, withProbe({}));
  const slow = await bp(args, withProbe({ BP_NO_FAST_PATH: '1' }));
  const path = (r: { stderr: string }) => /PROBE:(\w+)/.exec(r.stderr)?.[1];
  const strip = (r: { stderr: string }) => r.stderr.replace(/PROBE:\w+\n/, '').replace(/\(node:\d+\)/g, '(node:PID)');
  return { fast, slow, fastPath: path(fast), slowPath: path(slow), fastErr: strip(fast), slowErr: strip(slow) };
}

describe('bin/bp fast path', () => {
  it('declares exactly the flags of the oclif commands it stands in for', async () => {
    const table = fastTable();
    expect(Object.keys(table).sort()).toEqual(['apply', 'destroy', 'plan', 'validate']);
    for (const [id, entry] of Object.entries(table)) {
      const cls = (await import(pathToFileURL(join(ROOT, 'src', 'cli', 'commands', `${id}.ts`)).href)).default;
      expect(Object.keys(cls.args ?? {}), id).toEqual(['file']);
      const flags = { ...(cls.baseFlags ?? {}), ...(cls.flags ?? {}) } as Record<
        string,
        FlagSpec & { char?: string; parse?: (v: string, ctx: unknown, opts: unknown) => Promise<unknown> }
      >;
      expect(Object.keys(entry.flags).sort(), id).toEqual(Object.keys(flags).sort());
      for (const [name, f] of Object.entries(flags)) {
        const mine = entry.flags[name];
        const declared = {
          type: f.type,
          multiple: Boolean(f.multiple),
          default: f.default ?? null,
          options: f.options ?? null,
          env: f.env ?? null,
        };
        const { integer, ...comparable } = mine;
        expect(comparable, `${id} --${name}`).toEqual(declared);
        expect(f.char, `${id} --${name} has a short form the fast path does not know`).toBeUndefined();
        // Integer flags are the option flags whose parser refuses a word.
        if (f.type === 'option') {
          const refusesWords = await Promise.resolve(f.parse?.('abc', {}, f)).then(
            () => false,
            () => true,
          );
          expect(refusesWords, `${id} --${name} integer`).toBe(Boolean(integer));
        }
      }
    }
  });

  it('validate: same output and exit code with and without oclif, valid and invalid files', async () => {
    for (const file of [
      'valid/everything.yaml',
      'invalid/unknown-keys.yaml',
      'invalid/traffic-weights.yaml',
      'no-such-file.yaml',
    ]) {
      const r = await both(['validate', join(ROOT, 'test', 'fixtures', 'spec', file), '--json'], t.dir);
      expect(r.fastPath, file).toBe('fast');
      expect(r.slowPath, file).toBe('oclif');
      expect(r.fast.code, file).toBe(r.slow.code);
      expect(r.fast.stdout, file).toBe(r.slow.stdout);
      expect(r.fastErr, file).toBe(r.slowErr);
    }
  });

  it('plan and apply: same plan, same exit codes, state written, flags and BP_STATE_DIR honoured', async () => {
    const provider = join(t.dir, 'provider.json');
    const env = join(t.dir, 'env.yaml');
    writeFileSync(
      env,
      engineEnv({
        provider,
        deployments: [
          {
            id: 'web',
            revisions: [{ id: 'web-v1' }, { id: 'web-v2' }],
            traffic: [
              ['web-v1', 9000],
              ['web-v2', 1000],
            ],
          },
          { id: 'api', revisions: [{ id: 'api-v1' }], traffic: [['api-v1', 10000]] },
        ],
      }),
    );
    const stateEnv = { BP_STATE_DIR: join(t.dir, 'state') };
    const plan = await both(
      ['plan', env, '--detailed-exitcode', '--target', 'web', '--refresh=false'],
      t.dir,
      stateEnv,
    );
    expect(plan.fastPath).toBe('fast');
    expect(plan.fast.code).toBe(2);
    expect(plan.slow.code).toBe(2);
    expect(plan.fast.stdout).toBe(plan.slow.stdout);
    expect(plan.fast.stdout).toMatch(/web-v2/);
    expect(plan.fast.stdout).not.toMatch(/api-v1/);

    const apply = await bp(['apply', env, '--auto-approve', '--parallelism', '3', '--json'], {
      cwd: t.dir,
      env: stateEnv,
    });
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/"event":"apply.finished"/);
    expect(readProvider(provider).revisions['api-v1']?.running).toBe(true);
    const after = await both(['plan', env, '--detailed-exitcode'], t.dir, stateEnv);
    expect([after.fast.code, after.slow.code]).toEqual([0, 0]);
  });

  it('leaves help, unknown and malformed flags, and misplaced arguments to oclif', async () => {
    const cases = [
      ['plan', '--help'],
      ['plan', 'env.yaml', '--no-such-flag'],
      ['plan', 'env.yaml', '--refresh=maybe'],
      ['apply', 'env.yaml', '--parallelism', '0'],
      ['apply', 'env.yaml', '--parallelism=abc'],
      ['plan', '--target', 'web', 'env.yaml'],
      ['plan'],
      ['validate', 'a.yaml', 'b.yaml'],
    ];
    for (const args of cases) {
      const r = await both(args, t.dir);
      expect(r.fastPath, args.join(' ')).toBe('oclif');
      expect(r.fast.code, args.join(' ')).toBe(r.slow.code);
      expect(r.fastErr, args.join(' ')).toBe(r.slowErr);
      expect(r.fast.stdout, args.join(' ')).toBe(r.slow.stdout);
    }
  });
});
