import { describe, expect, it } from 'vitest';
import { keyedMutex } from '../../../src/deployers/kit/mutex.js';
import { beginRevisionVerb, beginSplitVerb } from '../../../src/deployers/kit/verb.js';
import type { DeployerEnvironment } from '../../../src/model/deployer.js';

const env = {
  environment_id: 'e',
  base_dir: '/',
  deployments: [
    { deployment_id: 'web', traffic: [{ revision_id: 'a', weight_bps: 10000 }], revisions: [{ revision_id: 'a' }] },
  ],
} as unknown as DeployerEnvironment;
const live = { signal: new AbortController().signal };
const aborted = { signal: AbortSignal.abort() };

describe('verb preamble', () => {
  it('looks the target up first, then checks for an interrupt', () => {
    expect(beginRevisionVerb(env, 'a', live, 'warming').deployment.deployment_id).toBe('web');
    expect(() => beginRevisionVerb(env, 'nope', aborted, 'warming')).toThrow(
      expect.objectContaining({ code: 'RevisionNotFound' }),
    );
    expect(() => beginRevisionVerb(env, 'a', aborted, 'warming')).toThrow('warming "a" was aborted');
    expect(beginSplitVerb(env, 'web', live).entries).toEqual([{ revision_id: 'a', weight_bps: 10000 }]);
    expect(() => beginSplitVerb(env, 'other', live)).toThrow(expect.objectContaining({ code: 'SplitNotFound' }));
    expect(() => beginSplitVerb(env, 'web', aborted)).toThrow(expect.objectContaining({ code: 'Aborted' }));
  });
});

describe('keyedMutex', () => {
  it('runs work on one key one at a time and other keys alongside', async () => {
    const exclusive = keyedMutex();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = exclusive('k', async () => {
      log.push('1 start');
      await gate;
      log.push('1 end');
    });
    const second = exclusive('k', async () => {
      log.push('2');
    });
    const other = exclusive('j', async () => {
      log.push('other');
    });
    await other;
    expect(log).toEqual(['1 start', 'other']);
    release();
    await Promise.all([first, second]);
    expect(log).toEqual(['1 start', 'other', '1 end', '2']);
  });

  it('a failure does not block the next holder of the key', async () => {
    const exclusive = keyedMutex();
    await expect(
      exclusive('k', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await exclusive('k', async () => 7)).toBe(7);
  });
});
