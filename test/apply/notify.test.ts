import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifier, describeFailures, signBody, verifySignature, type BpEvent } from '../../src/apply/notify.js';
import { deliveryBackoffMs, redactUrl } from '../../src/apply/notify/deliver.js';

interface Received {
  headers: IncomingMessage['headers'];
  raw: Buffer;
  body: BpEvent;
}

/** A real HTTP receiver on a free loopback port; `answer` decides each response (or hangs). */
async function receiver(answer: (r: Received, res: ServerResponse) => void = (_, res) => res.writeHead(204).end()) {
  const got: Received[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const r = { headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as BpEvent };
      got.push(r);
      answer(r, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/t0k3n`;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  servers.push(close);
  return { url, got, sockets, close };
}

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of servers.splice(0)) await close();
});

const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(
  JSON.parse(readFileSync(new URL('../../schemas/event.schema.json', import.meta.url), 'utf8')),
);

const SECRET = 's3cr3t-value-never-logged';
const fast = { timeoutMs: 500, baseDelayMs: 20 };
const plan = {
  format_version: 'bp.plan/v1' as const,
  environment_id: 'demo',
  prior: { lineage: null, serial: 0 },
  changes: true,
  steps: [],
  summary: { stage: 1, warm: 1, update: 0, apply_traffic_split: 1, drain: 0, archive: 0 },
  drift: [],
  expired: [],
  targets: [],
  destroy: false,
  rollouts: [],
};

const step = { id: 'warm:web/web-v2', verb: 'warm', reason: 'new revision' };

function notifier(url: string, events: string[], extra: { secret?: string; vars?: Record<string, string> } = {}) {
  return new Notifier({
    environmentId: 'demo',
    operation: 'apply',
    notifications: [{ url, events, ...(extra.secret !== undefined ? { secret: extra.secret } : {}) }],
    vars: extra.vars ?? { HOOK_SECRET: SECRET },
    policy: fast,
  });
}

describe('webhook notifications', () => {
  it('POSTs bp.event/v1 bodies that match the schema, signed with HMAC-SHA256 of the exact body', async () => {
    const rx = await receiver();
    const n = notifier(rx.url, ['*'], { secret: '${env:HOOK_SECRET}' });
    n.setPlan(plan);
    n.send({ event: 'apply.started', status: 'started' });
    n.send({
      event: 'step.failed',
      status: 'failed',
      deployment_id: 'web',
      revision_id: 'web-v2',
      step: { ...step, error: 'boom', code: 'Provider' },
    });
    const report = await n.close(2000);
    expect(report).toEqual({ delivered: 2, failures: [], warnings: [] });
    expect(rx.got).toHaveLength(2);
    for (const r of rx.got) {
      const expected = `sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`;
      expect(r.headers['x-bp-signature']).toBe(expected);
      expect(verifySignature(SECRET, r.raw, r.headers['x-bp-signature'] as string)).toBe(true);
      expect(verifySignature('another secret', r.raw, r.headers['x-bp-signature'] as string)).toBe(false);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-bp-event']).toBe(r.body.event);
      expect(r.headers['x-bp-delivery']).toBe(r.body.id);
      expect(validate(r.body), JSON.stringify(validate.errors)).toBe(true);
      expect(r.raw.toString()).not.toContain(SECRET);
    }
    const byEvent = Object.fromEntries(rx.got.map((r) => [r.body.event, r.body]));
    expect(byEvent['apply.started']).toMatchObject({
      schema: 'bp.event/v1',
      environment_id: 'demo',
      operation: 'apply',
      status: 'started',
      deployment_id: null,
      revision_id: null,
      plan: { prior: { lineage: null, serial: 0 }, changes: true, summary: plan.summary },
    });
    expect(byEvent['step.failed']).toMatchObject({
      status: 'failed',
      deployment_id: 'web',
      revision_id: 'web-v2',
      step: { error: 'boom' },
    });
    expect(byEvent['apply.started'].sequence).toBeLessThan(byEvent['step.failed'].sequence);
  });

  it('sends only subscribed events (exact names, * and family.* patterns) and warns about unknown names', async () => {
    const steps = await receiver();
    const finished = await receiver();
    const n = new Notifier({
      environmentId: 'demo',
      operation: 'sweep',
      notifications: [
        { url: steps.url, events: ['step.*'] },
        { url: finished.url, events: ['apply.finished', 'aply.started'] },
      ],
      vars: {},
      policy: fast,
    });
    n.send({ event: 'apply.started', status: 'started' });
    n.send({ event: 'step.started', status: 'started', step });
    n.send({ event: 'step.succeeded', status: 'succeeded', step });
    n.send({
      event: 'apply.finished',
      status: 'succeeded',
      result: { succeeded: 1, failed: 0, skipped: 0, not_started: 0, interrupted: false },
    });
    const report = await n.close(2000);
    expect(steps.got.map((r) => r.body.event)).toEqual(expect.arrayContaining(['step.started', 'step.succeeded']));
    expect(steps.got).toHaveLength(2);
    expect(finished.got.map((r) => r.body.event)).toEqual(['apply.finished']);
    // Without a secret there is nothing to sign with: no signature header at all.
    expect(finished.got[0].headers['x-bp-signature']).toBeUndefined();
    expect(finished.got[0].body.operation).toBe('sweep');
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/webhook #2 .* subscribes to unknown event "aply\.started"/);
  });

  it('retries a receiver that answers 500 three times with the same delivery id, then reports it', async () => {
    const rx = await receiver((_, res) => res.writeHead(500).end('nope'));
    const n = notifier(rx.url, ['apply.finished'], { secret: '${env:HOOK_SECRET}' });
    n.send({ event: 'apply.finished', status: 'failed' });
    const report = await n.close(5000);
    expect(rx.got).toHaveLength(3);
    expect(new Set(rx.got.map((r) => r.body.id)).size).toBe(1);
    expect(report.delivered).toBe(0);
    expect(report.failures).toEqual([
      expect.objectContaining({
        event: 'apply.finished',
        attempts: 3,
        error: 'HTTP 500',
        webhook: expect.stringMatching(/^#1 \(http:\/\/127\.0\.0\.1:\d+\/…\)$/),
      }),
    ]);
    const lines = describeFailures(report.failures);
    expect(lines[0]).toMatch(/did not receive 1 event \(apply\.finished\): HTTP 500 after 3 attempts/);
    // The webhook path (often a token) and the secret stay out of every message.
    expect(lines.join('\n')).not.toContain('t0k3n');
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('does not retry a receiver that refuses the request (4xx)', async () => {
    const rx = await receiver((_, res) => res.writeHead(403).end());
    const n = notifier(rx.url, ['*']);
    n.send({ event: 'apply.started', status: 'started' });
    const report = await n.close(2000);
    expect(rx.got).toHaveLength(1);
    expect(report.failures[0]).toMatchObject({ attempts: 1, error: 'HTTP 403' });
  });

  it('never blocks on a receiver that hangs: send returns at once, close waits only its bound and cuts the rest', async () => {
    const rx = await receiver(() => {}); // never answers
    const n = notifier(rx.url, ['*']);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) n.send({ event: 'step.started', status: 'started', step });
    expect(Date.now() - t0).toBeLessThan(100);
    const report = await n.close(300);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
    expect(report.delivered).toBe(0);
    expect(report.failures).toHaveLength(20);
    // 4 were in flight (the per-webhook concurrency), the rest never left the queue.
    expect(report.failures.filter((f) => f.attempts === 0)).toHaveLength(16);
    expect(describeFailures(report.failures)[0]).toMatch(/did not receive 20 events \(step\.started\)/);
    // Nothing is left open that would keep the process alive.
    await new Promise((r) => setTimeout(r, 100));
    expect(rx.sockets.size).toBe(0);
  });

  it('gives up on an attempt after the per-request timeout and retries it', async () => {
    let calls = 0;
    const rx = await receiver((_, res) => {
      calls++;
      if (calls >= 2) res.writeHead(200).end();
    });
    const n = notifier(rx.url, ['*']);
    n.send({ event: 'apply.started', status: 'started' });
    const report = await n.close(5000);
    expect(calls).toBe(2);
    expect(report).toMatchObject({ delivered: 1, failures: [] });
  });

  it('reports an unset secret variable by name, never sends unsigned, and never shows a value', async () => {
    const rx = await receiver();
    const n = notifier(rx.url, ['*'], { secret: '${env:MISSING_HOOK_SECRET}', vars: { OTHER: SECRET } });
    n.send({ event: 'apply.started', status: 'started' });
    const report = await n.close(1000);
    expect(rx.got).toHaveLength(0);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/webhook #1 .* is not notified: .*MISSING_HOOK_SECRET is not set/);
    expect(report.warnings[0]).not.toContain(SECRET);
  });

  it('reports a receiver that cannot be reached after three attempts', async () => {
    const rx = await receiver();
    const url = rx.url;
    await rx.close();
    servers.length = 0;
    const n = notifier(url, ['*']);
    n.send({ event: 'apply.started', status: 'started' });
    const report = await n.close(3000);
    expect(report.failures).toEqual([expect.objectContaining({ attempts: 3, error: 'ECONNREFUSED' })]);
  });
});

describe('delivery helpers', () => {
  it('backs off with waits that grow with each retry', () => {
    const p = { attempts: 3, timeoutMs: 1000, baseDelayMs: 400 };
    for (const r of [0, 0.5, 0.999]) {
      expect(deliveryBackoffMs(p, 1, () => r)).toBeGreaterThanOrEqual(200);
      expect(deliveryBackoffMs(p, 1, () => r)).toBeLessThanOrEqual(400);
      expect(deliveryBackoffMs(p, 2, () => r)).toBeGreaterThanOrEqual(400);
      expect(deliveryBackoffMs(p, 2, () => r)).toBeLessThanOrEqual(800);
    }
  });

  it('signs like any HMAC-SHA256 receiver expects and redacts webhook URLs to their origin', () => {
    expect(signBody('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    expect(verifySignature('key', 'body', undefined)).toBe(false);
    expect(verifySignature('key', 'body', 'sha256=short')).toBe(false);
    expect(redactUrl('https://user:pw@hooks.example.com/services/T000/B000/XXXX?x=1')).toBe(
      'https://hooks.example.com/…',
    );
    expect(redactUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080/');
  });
});
