/**
 * The router's defences against slow, greedy or hostile clients and hung backends: every
 * wait has a bound, every bound has a flag so tests (and operators) can tighten it.
 *
 *   --header-timeout-ms N    a client must finish its request head within N ms (slowloris); 408 after
 *   --request-timeout-ms N   ...and its whole request body within N ms; 408 after
 *   --idle-timeout-ms N      an idle keep-alive connection is closed after N ms
 *   --upstream-timeout-ms N  a backend silent for N ms (no response head, or a stalled body) gets the
 *                            client a 504 (or a cut response once the head was sent)
 *   --max-connections N      client connections beyond N are refused at accept
 *   --max-header-bytes N     a request head larger than N bytes gets 431
 */

export interface RouterLimits {
  headerTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  upstreamTimeoutMs: number;
  maxConnections: number;
  maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: RouterLimits = {
  headerTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  idleTimeoutMs: 65_000,
  upstreamTimeoutMs: 60_000,
  maxConnections: 10_000,
  maxHeaderBytes: 16 * 1024,
};

/** Node's timers fire at once beyond this (2^31-1 ms); a bound above it would be no bound. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const FLAGS: Record<string, { key: keyof RouterLimits; min: number; max: number }> = {
  'header-timeout-ms': { key: 'headerTimeoutMs', min: 1, max: MAX_TIMER_MS },
  'request-timeout-ms': { key: 'requestTimeoutMs', min: 1, max: MAX_TIMER_MS },
  'idle-timeout-ms': { key: 'idleTimeoutMs', min: 1, max: MAX_TIMER_MS },
  'upstream-timeout-ms': { key: 'upstreamTimeoutMs', min: 1, max: MAX_TIMER_MS },
  'max-connections': { key: 'maxConnections', min: 1, max: 1_000_000 },
  'max-header-bytes': { key: 'maxHeaderBytes', min: 1024, max: 1024 * 1024 },
};

/** parseArgs option definitions for the limit flags. */
export const LIMIT_OPTIONS: Record<string, { type: 'string' }> = Object.fromEntries(
  Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }]),
);

/** Reads the limit flags; returns the limits or the first problem, naming the flag and its range. */
export function parseLimits(values: Record<string, unknown>): RouterLimits | string {
  const limits = { ...DEFAULT_LIMITS };
  for (const [flag, { key, min, max }] of Object.entries(FLAGS)) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || !/^[0-9]+$/.test(raw) || n < min || n > max) {
      return `--${flag} must be an integer ${min}..${max}, got "${String(raw)}"`;
    }
    limits[key] = n;
  }
  // Node refuses a header timeout longer than the request timeout; the request bound covers both.
  if (limits.headerTimeoutMs > limits.requestTimeoutMs) limits.headerTimeoutMs = limits.requestTimeoutMs;
  return limits;
}
