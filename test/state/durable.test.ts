import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileDurable } from '../../src/state/durable.js';

describe('writeFileDurable', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bp-durable-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates an owner-only file by default and leaves no temp file behind', async () => {
    const p = join(dir, 'state.json');
    let syncs = 0;
    await writeFileDurable(p, '{"a":1}', { onSync: () => syncs++ });
    expect(await readFile(p, 'utf8')).toBe('{"a":1}');
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['state.json']);
    expect(syncs).toBe(2); // the file, then its directory
  });

  it('replaces an existing file atomically with the requested mode', async () => {
    const p = join(dir, 'out.txt');
    await writeFile(p, 'old', { mode: 0o644 });
    await writeFileDurable(p, Buffer.from('new'), { mode: 0o640 });
    expect(await readFile(p, 'utf8')).toBe('new');
    expect((await stat(p)).mode & 0o777).toBe(0o640);
  });

  it('fails without leaving a temp file when the directory is missing', async () => {
    await expect(writeFileDurable(join(dir, 'missing', 'x'), 'data')).rejects.toMatchObject({
      code: 'Io',
      cause: { code: 'ENOENT' },
    });
    expect(await readdir(dir)).toEqual([]);
  });
});
