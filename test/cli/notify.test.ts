import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { bp, engineEnv, tempDir, writeFile } from '../helpers/cli.js';

const SECRET = 'whsec-9f8e7d6c5b4a-never-in-output';

interface Hit {
  at: number;
  event: string;
  body: Record<string, unknown> & { event: string; status: string; operation: string; sequence: number };
  signatureOk: boolean;
}

/** A local webhook receiver that checks X-BP-Signature against SECRET. */
async function receiver(answer: (res: ServerResponse) => void) {
  const hits: Hit[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const want = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
      const body = JSON.parse(raw.toString());
      hits.push({ at: Date.now(), event: body.event, body, signatureOk: req.headers['x-bp-signature'] === want });
      answer(res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bp`, hits, sockets };
}

let t: ReturnType<typeof tempDir>;
let provider: string;
const closers: Array<() => Promise<void>> = [];
const env = { HOOK_SECRET: SECRET, BP_NOTIFY_BACKOFF_MS: '50' };
const run = (args: string[], extra: Record<string, string> = {}) => bp(args, { cwd: t.dir, env: { ...env, ...extra } });

function envFile(hooks: Array<{ url: string; events: string[] }>, ttl?: string): void {
  const base = engineEnv({
    provider,
    deployments: [
      {
        id: 'web',
        revisions: [
          { id: 'web-v1', ttl },
          { id: 'web-v2', ttl },
        ],
        traffic: [
          ['web-v1', 10000],
          ['web-v2', 0],
        ],
      },
    ],
  });
  const lines = ['notifications:'];
  for (const h of hooks)
    lines.push(`  - url: ${h.url}`, `    events: ${JSON.stringify(h.events)}`, '    secret: ${env:HOOK_SECRET}');
  writeFile(join(t.dir, 'env.yaml'), base + lines.join('\n') + '\n');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

beforeEach(() => {
  t = tempDir();
  provider = join(t.dir, 'provider.json');
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  t.cleanup();
});

describe('webhook notifications through the CLI', () => {
  it('apply and sweep send signed bp.event/v1 events; the secret appears in no output and no state file', async () => {
    const rx = await receiver((res) => res.writeHead(204).end());
    envFile([{ url: rx.url, events: ['*'] }], '1h');
    // Injected time (BP_NOW): staged at midnight, swept two hours later, past the 1h TTL.
    const a = await run(['apply', 'env.yaml', '--auto-approve'], { BP_NOW: '2026-01-01T00:00:00Z' });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).not.toMatch(/Warning/);
    const applied = rx.hits.map((h) => h.event);
    expect(applied[0]).toBe('apply.started'); // the command waited for deliveries, so all are here
    // 2 stages, 2 warms, the split, and update:@environment recording the webhook itself.
    expect(applied.filter((e) => e === 'step.succeeded')).toHaveLength(6);
    expect(applied.filter((e) => e === 'step.started')).toHaveLength(6);
    const recordedHook = rx.hits.find((h) => h.event === 'step.succeeded' && h.body.deployment_id === null)!;
    expect(recordedHook.body).toMatchObject({ revision_id: null, step: { id: 'update:@environment', verb: 'update' } });
    const finished = rx.hits.find((h) => h.event === 'apply.finished')!;
    expect(finished.body).toMatchObject({
      schema: 'bp.event/v1',
      environment_id: 'demo',
      operation: 'apply',
      status: 'succeeded',
      result: { succeeded: 6, failed: 0, skipped: 0, not_started: 0, interrupted: false },
      plan: {
        prior: { lineage: null, serial: 0 },
        summary: { stage: 2, warm: 2, update: 1, apply_traffic_split: 1, drain: 0, archive: 0 },
      },
    });
    const n = rx.hits.length;

    const s = await run(['sweep', 'env.yaml'], { BP_NOW: '2026-01-01T02:00:00Z' });
    expect(s.code, s.stderr).toBe(0);
    const swept = rx.hits.slice(n);
    const expired = swept.filter((h) => h.event === 'revision.expired').map((h) => h.body);
    expect(
      expired.map((e) => [e.revision_id, (e.expired as { carries_traffic: boolean }).carries_traffic]).sort(),
    ).toEqual([
      ['web-v1', true],
      ['web-v2', false],
    ]);
    expect(swept.find((h) => h.event === 'apply.finished')!.body).toMatchObject({
      operation: 'sweep',
      status: 'succeeded',
      plan: { summary: { drain: 1, archive: 1, stage: 0, warm: 0, apply_traffic_split: 0 } },
    });
    expect(swept.filter((h) => h.event === 'step.succeeded').map((h) => (h.body.step as { id: string }).id)).toEqual([
      'drain:web/web-v2',
      'archive:web/web-v2',
    ]);

    expect(rx.hits.every((h) => h.signatureOk)).toBe(true);
    for (const out of [a.stdout, a.stderr, s.stdout, s.stderr]) expect(out).not.toContain(SECRET);
    for (const f of filesUnder(t.dir)) expect(readFileSync(f, 'utf8'), f).not.toContain(SECRET);
  });

  it('a receiver answering 500 gets 3 attempts per event; the apply still exits 0 and reports it', async () => {
    const rx = await receiver((res) => res.writeHead(500).end());
    envFile([{ url: rx.url, events: ['apply.started', 'apply.finished'] }]);
    const a = await run(['apply', 'env.yaml', '--auto-approve']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/Apply complete: 6 succeeded/);
    expect(a.stdout).toMatch(
      /Warning: webhook #1 \(http:\/\/127\.0\.0\.1:\d+\/…\) did not receive 2 events \((apply\.started, apply\.finished|apply\.finished, apply\.started)\): HTTP 500 after 3 attempts/,
    );
    expect(rx.hits.filter((h) => h.event === 'apply.started')).toHaveLength(3);
    expect(rx.hits.filter((h) => h.event === 'apply.finished')).toHaveLength(3);
    expect(new Set(rx.hits.filter((h) => h.event === 'apply.finished').map((h) => h.body.id)).size).toBe(1);
  });

  it('a receiver that hangs delays the apply by at most the final wait, and is reported', async () => {
    const rx = await receiver(() => {}); // accepts, never answers
    envFile([{ url: rx.url, events: ['apply.started'] }]);
    // Without the bound this delivery would take 3 attempts x 20 s.
    const started = Date.now();
    const a = await run(['apply', 'env.yaml', '--auto-approve'], {
      BP_NOTIFY_TIMEOUT_MS: '20000',
      BP_NOTIFY_WAIT_MS: '1500',
    });
    const ended = Date.now();
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/Apply complete: 6 succeeded/);
    expect(a.stdout).toMatch(
      /Warning: webhook #1 .* did not receive 1 event \(apply\.started\): the delivery was cut short when bp finished/,
    );
    expect(rx.hits).toHaveLength(1);
    // Measured from the moment the receiver got the request (the apply had just started).
    expect(ended - rx.hits[0].at).toBeLessThan(12_000);
    expect(ended - started).toBeLessThan(20_000);
    expect(rx.sockets.size).toBe(0); // bp hung up rather than leaving the request open
  });
});
