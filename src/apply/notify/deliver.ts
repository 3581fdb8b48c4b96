/**
 * One webhook delivery: a signed POST with a per-attempt timeout, retried with growing
 * backoff. Plain node:http(s) without a keep-alive agent, so an abandoned delivery is torn
 * down completely and never keeps a finished bp process alive.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ClientRequest } from 'node:http';
import { sleep } from '../retry.js';

export interface DeliveryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  /** Per attempt, until the response status arrives. */
  timeoutMs: number;
  /** Wait before the second attempt; doubles for each later one. */
  baseDelayMs: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = { attempts: 3, timeoutMs: 5000, baseDelayMs: 500 };

export type DeliveryResult =
  { ok: true; attempts: number; status: number } | { ok: false; attempts: number; error: string };

/** `sha256=<hex HMAC-SHA256(secret, body)>`, the value of X-BP-Signature. */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The Standard Webhooks signature (https://www.standardwebhooks.com, "Signature scheme"):
 * `v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>`. A secret written
 * `whsec_<base64>` is that base64 key, as the specification says; any other secret is used
 * as its UTF-8 bytes. Covering the id and the timestamp lets a receiver reject replays.
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: Buffer | string): string {
  const mac = createHmac('sha256', signingKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

function signingKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** The headers of a signed delivery: webhook-id, webhook-timestamp (Unix seconds), webhook-signature. */
export function standardWebhookHeaders(
  secret: string,
  id: string,
  body: Buffer | string,
  now: Date = new Date(),
): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standardSignature(secret, id, timestamp, body),
  };
}

/**
 * For receivers (and tests): checks the Standard Webhooks headers of a delivery, in constant
 * time, and refuses a timestamp more than `toleranceSeconds` away from `now` (a replay).
 */
export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | string,
  now: Date = new Date(),
  toleranceSeconds = 300,
): { ok: true } | { ok: false; reason: string } {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one('webhook-id');
  const ts = Number(one('webhook-timestamp'));
  const sigs = (one('webhook-signature') ?? '').split(' ');
  if (!id || !Number.isInteger(ts)) return { ok: false, reason: 'missing webhook-id or webhook-timestamp' };
  if (Math.abs(now.getTime() / 1000 - ts) > toleranceSeconds)
    return { ok: false, reason: 'timestamp outside the tolerance' };
  const want = Buffer.from(standardSignature(secret, id, ts, body));
  const match = sigs.some((s) => {
    const got = Buffer.from(s);
    return got.length === want.length && timingSafeEqual(got, want);
  });
  return match ? { ok: true } : { ok: false, reason: 'no matching signature' };
}

/** For receivers (and tests): constant-time check of an X-BP-Signature header. */
export function verifySignature(secret: string, body: Buffer | string, header: string | undefined): boolean {
  if (typeof header !== 'string') return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * Where a webhook points, safe for messages: the origin only. Paths and queries of webhook
 * URLs often carry tokens (chat webhooks put the credential in the path).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' && !u.search ? '/' : '/…'}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Doubling from `baseDelayMs`, with jitter only in the upper half so waits always grow. */
export function deliveryBackoffMs(policy: DeliveryPolicy, retry: number, random: () => number = Math.random): number {
  const cap = policy.baseDelayMs * 2 ** (retry - 1);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** 408/425/429 and 5xx may pass on a later attempt; other refusals (4xx, 3xx) will not. */
function worthRetrying(e: unknown): boolean {
  if (!(e instanceof HttpStatusError)) return true;
  return e.status === 408 || e.status === 425 || e.status === 429 || e.status >= 500;
}

export async function deliver(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  policy: DeliveryPolicy,
  signal: AbortSignal,
  onAttemptFailed?: (attempt: number, error: string) => void,
): Promise<DeliveryResult> {
  let last = 'not attempted';
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) {
      try {
        await sleep(deliveryBackoffMs(policy, attempt - 1), signal);
      } catch {
        return { ok: false, attempts: attempt - 1, error: `${last}; abandoned before attempt ${attempt}` };
      }
    }
    try {
      const status = await postOnce(url, body, headers, policy.timeoutMs, signal);
      if (status >= 200 && status < 300) return { ok: true, attempts: attempt, status };
      throw new HttpStatusError(status);
    } catch (e) {
      last = describe(e, policy.timeoutMs);
      onAttemptFailed?.(attempt, last);
      if (signal.aborted) return { ok: false, attempts: attempt, error: `${last}; abandoned` };
      if (!worthRetrying(e)) return { ok: false, attempts: attempt, error: last };
    }
  }
  return { ok: false, attempts: policy.attempts, error: last };
}

function describe(e: unknown, timeoutMs: number): string {
  if (e instanceof HttpStatusError) return e.message;
  if (e instanceof TimedOut) return `no response within ${timeoutMs}ms`;
  const err = e as { code?: string; message?: string; name?: string };
  if (err?.name === 'AbortError') return 'the delivery was cut short when bp finished';
  return err?.code ? `${err.code}` : (err?.message ?? String(e));
}

class TimedOut extends Error {}

async function postOnce(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<number> {
  const u = new URL(url);
  // Loaded on first delivery: runs without notifications never load TLS.
  const { request: send } = u.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    try {
      req = send(u, {
        method: 'POST',
        agent: false,
        signal,
        headers: { ...headers, 'content-length': String(body.length) },
      });
    } catch (e) {
      reject(e);
      return;
    }
    const timer = setTimeout(() => req.destroy(new TimedOut()), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      // The status is all bp needs; drain a little and hang up so the socket never lingers.
      res.resume();
      const hangUp = setTimeout(() => req.destroy(), 1000);
      res.on('close', () => clearTimeout(hangUp));
    });
    req.end(body);
  });
}
