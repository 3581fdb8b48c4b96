import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConformanceConfig } from '../../src/conformance/index.js';
import { scratchDir } from './helpers.js';

function file(name: string, text: string): string {
  const path = join(scratchDir(), name);
  writeFileSync(path, text);
  return path;
}

describe('readConformanceConfig', () => {
  it('reads YAML and JSON mappings', async () => {
    expect(await readConformanceConfig(file('c.yaml', 'file: p.json\nnested: { a: 1 }\n'))).toEqual({
      file: 'p.json',
      nested: { a: 1 },
    });
    expect(await readConformanceConfig(file('c.json', '{"file": "p.json"}'))).toEqual({ file: 'p.json' });
  });

  it('treats an empty file as no settings', async () => {
    expect(await readConformanceConfig(file('empty.yaml', ''))).toEqual({});
  });

  it('rejects a list, malformed text and a missing file with one clear InvalidInput error', async () => {
    await expect(readConformanceConfig(file('list.yaml', '- a\n- b\n'))).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringContaining('must be a mapping of settings, not a list'),
    });
    await expect(readConformanceConfig(file('bad.json', '{"file": '))).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringContaining('is not valid JSON'),
    });
    await expect(readConformanceConfig(file('bad.yaml', 'a: [1, 2\n'))).rejects.toMatchObject({ code: 'InvalidInput' });
    await expect(readConformanceConfig(join(scratchDir(), 'missing.yaml'))).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringContaining('cannot read deployer config'),
    });
  });

  it('refuses an alias bomb instead of expanding it', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`,
      );
    await expect(readConformanceConfig(file('bomb.yaml', bomb.join('\n') + '\n'))).rejects.toMatchObject({
      code: 'InvalidInput',
    });
  });
});
