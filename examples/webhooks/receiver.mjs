// A webhook receiver that verifies bp's Standard Webhooks signature and refuses replays.
// No dependency on bp: copy it. Run: BP_WEBHOOK_SECRET=... node receiver.mjs [PORT]
//
// bp signs `${webhook-id}.${webhook-timestamp}.${raw body}` with HMAC-SHA256 and sends
// `webhook-signature: v1,<base64>`. A receiver must (1) verify over the RAW bytes, before
// parsing JSON; (2) refuse a timestamp too far from its clock (an old delivery replayed);
// (3) drop a webhook-id it has already processed (bp retries with the same id).
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const TOLERANCE_SECONDS = 5 * 60;

function keyOf(secret) {
  // `whsec_<base64>` secrets are base64 keys (Standard Webhooks); others are used as UTF-8.
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** `{ ok: true }` or `{ ok: false, reason }` for one delivery; `now` in milliseconds. */
export function verify(secret, headers, rawBody, now = Date.now()) {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const signatures = String(headers['webhook-signature'] ?? '').split(' ');
  if (!id || !Number.isInteger(timestamp)) return { ok: false, reason: 'unsigned delivery' };
  if (Math.abs(now / 1000 - timestamp) > TOLERANCE_SECONDS) return { ok: false, reason: 'stale timestamp (replay?)' };
  const mac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.`).update(rawBody).digest('base64');
  const want = Buffer.from(`v1,${mac}`);
  const ok = signatures.some((s) => Buffer.byteLength(s) === want.length && timingSafeEqual(Buffer.from(s), want));
  return ok ? { ok: true } : { ok: false, reason: 'bad signature' };
}

/** An HTTP server calling `onEvent(event)` once per verified, not yet seen delivery. */
export function createReceiver(secret, onEvent, clock = Date.now) {
  const seen = new Set();
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const result = verify(secret, req.headers, raw, clock());
      if (!result.ok) {
        res.writeHead(401).end(result.reason);
        return;
      }
      const id = req.headers['webhook-id'];
      if (!seen.has(id)) {
        seen.add(id);
        onEvent(JSON.parse(raw.toString('utf8')));
      }
      res.writeHead(204).end();
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.BP_WEBHOOK_SECRET;
  if (!secret) throw new Error('set BP_WEBHOOK_SECRET');
  createReceiver(secret, (e) => console.log(e.event, e.status, e.revision_id ?? '')).listen(
    Number(process.argv[2] ?? 8787),
    '127.0.0.1',
  );
}
