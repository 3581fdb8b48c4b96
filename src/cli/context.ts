/** Builds what the engine needs from CLI flags and the process environment. */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { HistoryOptions } from '../apply/engine.js';
import { DEFAULT_HISTORY_LIMIT } from '../model/state.js';
import { actorFrom } from '../plan/history.js';
import type { EngineContext } from '../apply/engine.js';
import type { EventSink } from '../apply/events.js';
import type { RetryPolicy } from '../apply/retry.js';
import type { Logger } from '../model/deployer.js';
import type { Verb } from '../model/plan.js';
import { UsageError, parseDurationMs } from '../model/index.js';
import { openStateBackend } from '../state/index.js';

export interface CommonFlags {
  'state-dir'?: string;
  backend?: string;
}

export function stateDirFrom(flags: CommonFlags): string {
  return resolve(flags['state-dir'] || process.env.BP_STATE_DIR || '.bp');
}

export function stderrLogger(): Logger {
  const level = process.env.BP_DEBUG === '1' ? 0 : process.env.BP_LOG === 'info' ? 1 : 2;
  const write = (n: number, tag: string) => (message: string, fields?: Record<string, unknown>) => {
    if (n < level) return;
    process.stderr.write(`[${tag}] ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  };
  return { debug: write(0, 'debug'), info: write(1, 'info'), warn: write(2, 'warn'), error: write(3, 'error') };
}

export async function engineContext(flags: CommonFlags, emit: EventSink): Promise<EngineContext> {
  const stateDir = stateDirFrom(flags);
  const backend = await openStateBackend({ stateDir, backend: flags.backend || process.env.BP_BACKEND || undefined });
  return { backend, stateDir, logger: stderrLogger(), emit, clock: cliClock(), vars: process.env };
}

/**
 * The engine's clock. `BP_NOW` (an ISO 8601 instant) starts it at that instant, running on from
 * there, so tests of TTLs and pauses inject time instead of sleeping through it.
 */
export function cliClock(env: Record<string, string | undefined> = process.env): () => Date {
  const at = env.BP_NOW;
  if (at === undefined || at === '') return () => new Date();
  const base = Date.parse(at);
  if (Number.isNaN(base))
    throw new UsageError(`BP_NOW must be an ISO 8601 time such as 2026-01-01T00:00:00Z, got "${at}"`);
  const start = Date.now();
  return () => new Date(base + (Date.now() - start));
}

/** `--lock-timeout 30s`; a bare number is seconds. */
export function durationFlagMs(value: string | undefined, flag: string): number {
  if (value === undefined || value === '') return 0;
  if (/^[0-9]+$/.test(value)) return Number(value) * 1000;
  const ms = parseDurationMs(value);
  if (ms === null) throw new UsageError(`--${flag} takes a duration like 30s, 5m or 1h, not "${value}"`);
  return ms;
}

/** `--retries` attempts a step, backing off from BP_RETRY_BASE_MS (500 ms; tests shorten it) up to 15 s. */
export function retryPolicyFrom(flags: { retries: number }): RetryPolicy {
  return { attempts: flags.retries, baseDelayMs: Number(process.env.BP_RETRY_BASE_MS ?? 500), maxDelayMs: 15_000 };
}

/**
 * `--step-timeout 5m`: the same limit for every verb the walker times (update is left to its
 * deployer); undefined when the flag is absent.
 */
export function stepTimeoutsFlag(value: string | undefined): Partial<Record<Verb, number>> | undefined {
  const ms = value ? durationFlagMs(value, 'step-timeout') : undefined;
  return ms ? { stage: ms, warm: ms, apply_traffic_split: ms, drain: ms, archive: ms } : undefined;
}

/** Who is running this and how much history to keep (`--history-limit`). */
export function historyOptions(flags: { 'history-limit'?: number }, operation?: string, note?: string): HistoryOptions {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep $USER.
  }
  return {
    actor: actorFrom(user, hostname(), process.env),
    limit: flags['history-limit'] ?? DEFAULT_HISTORY_LIMIT,
    operation,
    note,
  };
}
