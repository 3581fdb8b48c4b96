import { EventEmitter } from 'node:events';
import type { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { LockLink } from '../../../src/state/postgres/lock.js';
import { parsePostgresUrl } from '../../../src/state/postgres/connection-config.js';

/**
 * The server's error for a terminated session can reach the failed statement before the
 * client emits 'error' or 'end' (it did in CI). The link must still say the lock is lost.
 */
function clientFailingWith(err: Error & { code?: string }): Client {
  const c = new EventEmitter() as unknown as Client & EventEmitter;
  (c as unknown as { query: () => Promise<never> }).query = () => Promise.reject(err);
  (c as unknown as { end: () => Promise<void> }).end = () => Promise.resolve();
  return c;
}

const target = parsePostgresUrl('postgresql://bp@127.0.0.1:5432/bp');

describe('LockLink', () => {
  it('treats a terminated session as a lost lock even before the client reports the close', async () => {
    const err = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const link = new LockLink(clientFailingWith(err), target, 'demo', 1);
    const thrown = await link.query('SELECT 1').then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(thrown.message).toMatch(/lost the connection holding the lock of environment "demo"/);
    expect(link.lost?.message).toBe(thrown.message);
    // Every later statement fails the same way without reaching the server.
    await expect(link.transaction(async () => 1)).rejects.toThrow(/lost the connection holding the lock/);
  });

  it('keeps an ordinary statement failure as it is', async () => {
    const err = Object.assign(new Error('relation "nope" does not exist'), { code: '42P01' });
    const link = new LockLink(clientFailingWith(err), target, 'demo', 1);
    const thrown = await link.query('SELECT * FROM nope').then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(thrown.message).toMatch(/relation "nope" does not exist \(SQLSTATE 42P01\)/);
    expect(link.lost).toBeNull();
  });
});
