/**
 * A webhook URL carrying a token from a secret store and a signing secret from a file: both
 * resolved at send time (Vault's HTTP API on the wire-level fake, and the file system), the URL's token reaching the receiver and nowhere else: not in the report's
 * warnings or failures, not in any body (which passes through the one redactor).
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Notifier } from '../../src/apply/notify.js';
import { FakeSecretStores } from '../fakes/secrets/server.js';

const TOKEN = 'hook-token-5f4e3d2c1b';
const SIGNING = 'signing-secret-9a8b7c6d';
const stores = new FakeSecretStores();
const dir = mkdtempSync(join(tmpdir(), 'bp-notify-refs-'));
let server: http.Server;
let port = 0;
const received: Array<{ url: string; body: string; headers: http.IncomingHttpHeaders }> = [];

beforeAll(async () => {
  await stores.start();
  stores.putKv('secret/hooks', { token: TOKEN });
  writeFileSync(join(dir, 'signing.txt'), `${SIGNING}\n`);
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body, headers: req.headers });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await stores.stop();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const vars = () => ({ VAULT_ADDR: stores.url, VAULT_TOKEN: stores.vaultToken });

describe('notification references resolved at send time', () => {
  it('a store token in the url and a file secret sign and reach the receiver, redacted everywhere else', async () => {
    const n = new Notifier({
      environmentId: 'demo',
      operation: 'apply',
      notifications: [
        {
          url: `http://127.0.0.1:${port}/hooks/\${secret:vault:secret/hooks#token}`,
          secret: '${file:signing.txt}',
          events: ['*'],
        },
      ],
      vars: vars(),
      baseDir: dir,
      policy: { baseDelayMs: 1, timeoutMs: 5000, attempts: 1 },
    });
    expect(stores.journal).toHaveLength(0);
    n.send({ event: 'apply.started', status: 'started' });
    // The event itself quotes the token (an error message, say): the body carries it redacted.
    n.send({ event: 'apply.finished', status: 'failed', message: `upstream said ${TOKEN}` });
    const report = await n.close(10_000);
    expect(report.failures).toEqual([]);
    expect(report.delivered).toBe(2);
    expect(received.map((r) => r.url)).toEqual([`/hooks/${TOKEN}`, `/hooks/${TOKEN}`]);
    // Fetched once for the webhook, not once per event.
    expect(stores.journal.map((j) => j.url)).toEqual(['/v1/secret/data/hooks']);
    for (const r of received) {
      expect(r.body).not.toContain(TOKEN);
      expect(r.body).not.toContain(SIGNING);
      const id = String(r.headers['webhook-id']);
      const ts = String(r.headers['webhook-timestamp']);
      const sig = createHmac('sha256', SIGNING).update(`${id}.${ts}.${r.body}`).digest('base64');
      expect(r.headers['webhook-signature']).toBe(`v1,${sig}`);
    }
    expect(received[1].body).toContain('upstream said [redacted]');
  });

  it('an unreadable store disables the webhook with a warning naming the reference, never sending unsigned', async () => {
    const before = received.length;
    const n = new Notifier({
      environmentId: 'demo',
      operation: 'apply',
      notifications: [
        { url: `http://127.0.0.1:${port}/x`, secret: '${secret:vault:secret/missing#token}', events: ['*'] },
      ],
      vars: vars(),
      baseDir: dir,
      policy: { baseDelayMs: 1, timeoutMs: 5000, attempts: 1 },
    });
    n.send({ event: 'apply.started', status: 'started' });
    const report = await n.close(10_000);
    expect(received.length).toBe(before);
    expect(report.warnings.join('\n')).toMatch(/is not notified: .*vault:secret\/missing.*HTTP 404/);
  });
});
