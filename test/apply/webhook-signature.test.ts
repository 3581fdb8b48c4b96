/**
 * Standard Webhooks signatures: bp's real Notifier delivers to the receiver example
 * (examples/webhooks/receiver.mjs), which accepts genuine deliveries once, and refuses a
 * tampered body, another secret, and a genuine delivery replayed after the tolerance.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bp, tempDir, writeFile } from '../helpers/cli.js';
import { Notifier, standardWebhookHeaders, verifyStandardWebhook } from '../../src/apply/notify.js';
// @ts-expect-error: a plain .mjs example without types
import { createReceiver, verify } from '../../examples/webhooks/receiver.mjs';

const SECRET = 'whsec_' + Buffer.from('a-32-byte-key-for-the-test-1234!').toString('base64');

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('webhook signatures (Standard Webhooks)', () => {
  it('a delivery from bp verifies at the example receiver, which processes each id once', async () => {
    const events: Array<{ event: string }> = [];
    const raw: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
    const rx = createReceiver(SECRET, (e: { event: string }) => events.push(e)) as http.Server;
    rx.on('request', (req: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => raw.push({ headers: req.headers, body: Buffer.concat(chunks) }));
    });
    const url = await listen(rx);
    const n = new Notifier({
      environmentId: 'demo',
      operation: 'apply',
      notifications: [{ url, events: ['*'], secret: '${env:HOOK}' }],
      vars: { HOOK: SECRET },
      policy: { attempts: 1, timeoutMs: 2000, baseDelayMs: 10 },
    });
    n.send({ event: 'apply.started', status: 'started' });
    const report = await n.close(3000);
    rx.close();
    expect(report.failures).toEqual([]);
    expect(events.map((e) => e.event)).toEqual(['apply.started']);
    const [{ headers, body }] = raw;
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyStandardWebhook(SECRET, headers, body)).toEqual({ ok: true });

    // Replayed 6 minutes later: refused by both the example and bp's own verifier.
    const later = Number(headers['webhook-timestamp']) * 1000 + 6 * 60_000;
    expect(verify(SECRET, headers, body, later)).toEqual({ ok: false, reason: 'stale timestamp (replay?)' });
    expect(verifyStandardWebhook(SECRET, headers, body, new Date(later)).ok).toBe(false);
    // Tampered body, or another secret: refused.
    expect(verify(SECRET, headers, Buffer.concat([body, Buffer.from(' ')])).ok).toBe(false);
    expect(verify('whsec_' + Buffer.from('other').toString('base64'), headers, body).ok).toBe(false);
  });

  it('signs id.timestamp.body, so the same body under another id or time does not verify', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const h = standardWebhookHeaders(SECRET, 'msg_1', '{"a":1}', now);
    expect(h['webhook-timestamp']).toBe(String(now.getTime() / 1000));
    expect(verifyStandardWebhook(SECRET, h, '{"a":1}', now)).toEqual({ ok: true });
    expect(verifyStandardWebhook(SECRET, { ...h, 'webhook-id': 'msg_2' }, '{"a":1}', now).ok).toBe(false);
    expect(
      verifyStandardWebhook(SECRET, { ...h, 'webhook-timestamp': String(now.getTime() / 1000 + 1) }, '{"a":1}', now).ok,
    ).toBe(false);
  });
});

describe('webhook secrets in env files', () => {
  const t = tempDir('bp-hook-validate-');
  const file = (notification: string): string =>
    writeFile(
      join(t.dir, 'env.yaml'),
      [
        'schema: bp.environment/v1',
        'environment_id: hooks',
        'deployers:',
        '  local: { type: local-process, config: {} }',
        'deployments: []',
        'notifications:',
        `  - ${notification}`,
        '',
      ].join('\n'),
    );

  it('an unsigned webhook is a warning at validate and at plan, at FILE:LINE:COL', async () => {
    file('{ url: "http://127.0.0.1:9/hook", events: ["*"] }');
    for (const args of [
      ['validate', 'env.yaml'],
      ['plan', 'env.yaml', '--state-dir', 'state'],
    ]) {
      const r = await bp(args, { cwd: t.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/env\.yaml:7:5: warning: notification #1 has no secret: its deliveries go out unsigned/);
    }
  }, 60_000);

  it('a literal secret is a validation error naming the field', async () => {
    file('{ url: "http://127.0.0.1:9/hook", events: ["*"], secret: "literal-hook-secret" }');
    const r = await bp(['validate', 'env.yaml'], { cwd: t.dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/env\.yaml:7:\d+: secret in notification #1 is a literal secret: give it as a reference/);
    expect(r.stderr).not.toContain('literal-hook-secret');
    t.cleanup();
  }, 60_000);
});
