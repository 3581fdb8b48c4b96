import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpError } from '../../src/model/errors.js';
import { LocalStateBackend, openStateBackend } from '../../src/state/index.js';

async function usageError(p: Promise<unknown>): Promise<BpError> {
  const err = await p.catch((e: unknown) => e);
  expect(BpError.is(err) && err.code).toBe('Usage');
  return err as BpError;
}

describe('openStateBackend', () => {
  it('opens local files in the given state dir when no backend URL is set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bp-open-'));
    try {
      for (const backend of [undefined, '']) {
        const b = await openStateBackend({ stateDir: dir, backend });
        expect(b).toBeInstanceOf(LocalStateBackend);
        expect(b.description).toBe(`local state in ${dir}`);
        expect(await b.list()).toEqual([]);
        await b.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('defaults the state dir to ./.bp', async () => {
    const b = await openStateBackend({});
    expect(b.description).toBe('local state in ./.bp');
  });

  it('names the accepted forms for anything else, without echoing a password', async () => {
    for (const backend of ['mysql://root:hunter2@db/bp', 's3-bucket', './dir']) {
      const err = await usageError(openStateBackend({ backend }));
      expect(err.message).toContain('postgres://');
      expect(err.message).toContain('--state-dir');
      expect(err.message).not.toContain('hunter2');
    }
  });
});
