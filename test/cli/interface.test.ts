/**
 * The CLI's interface is a contract: a snapshot of every command's arguments and flags (an
 * accidental rename or removal fails here), and the committed JSON schema of `bp plan --json`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ROOT, bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

const commandsDir = join(ROOT, 'src', 'cli', 'commands');

function commandFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? commandFiles(p) : n.endsWith('.ts') ? [p] : [];
    });
}

describe('command-line interface', () => {
  it('every command keeps its arguments and flags', async () => {
    const surface: Record<string, unknown> = {};
    for (const file of commandFiles(commandsDir)) {
      const id = relative(commandsDir, file).replace(/\.ts$/, '').split('/').join(' ');
      const cls = (await import(pathToFileURL(file).href)).default;
      const flags = { ...(cls.baseFlags ?? {}), ...(cls.flags ?? {}) } as Record<
        string,
        { type: string; multiple?: boolean; default?: unknown; options?: string[]; env?: string }
      >;
      surface[id] = {
        args: Object.keys(cls.args ?? {}),
        flags: Object.fromEntries(
          Object.entries(flags)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, f]) => [
              name,
              {
                type: f.type,
                multiple: Boolean(f.multiple),
                default: f.default ?? null,
                options: f.options ?? null,
                env: f.env ?? null,
              },
            ]),
        ),
      };
    }
    expect(surface).toMatchSnapshot();
  });

  it('bp plan --json conforms to schemas/plan.schema.json', async () => {
    const t = tempDir();
    try {
      writeFile(
        join(t.dir, 'env.yaml'),
        engineEnv({
          provider: join(t.dir, 'provider.json'),
          deployments: [
            {
              id: 'web',
              revisions: [{ id: 'web-v1' }, { id: 'web-v2' }],
              traffic: [
                ['web-v1', 9000],
                ['web-v2', 1000],
              ],
            },
          ],
        }),
      );
      const r = await bp(['plan', 'env.yaml', '--json'], { cwd: t.dir });
      expect(r.code).toBe(0);
      const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'plan.schema.json'), 'utf8'));
      const validate = new Ajv2020({ allErrors: true }).compile(schema);
      const plan = JSON.parse(r.stdout);
      expect(validate(plan), JSON.stringify(validate.errors)).toBe(true);
      expect(plan.steps).toHaveLength(5);
    } finally {
      t.cleanup();
    }
  });
});
