/**
 * The router's configuration and status documents: what bp PUTs to a router's admin
 * endpoint and what the router reports back. Shared by the router process and the
 * local-process deployer, so both agree on one shape.
 */
import { FULL_WEIGHT_BPS } from '../model/environment.js';

export interface RouterEntry {
  revision_id: string;
  weight_bps: number;
  /** Base URLs of the revision's replicas, e.g. `http://127.0.0.1:41234`. */
  backends: string[];
  /** Path the router polls to decide whether a backend is healthy. */
  health_path: string;
}

export interface RouterConfig {
  deployment_id: string;
  entries: RouterEntry[];
  /** Revisions that get no new requests; their in-flight requests still complete. */
  draining: string[];
}

export interface BackendStatus {
  url: string;
  revision_id: string;
  healthy: boolean;
  in_flight: number;
  requests: number;
  last_error: string | null;
}

export interface RouterStatus {
  deployment_id: string;
  listen: string;
  /** HOST:PORT of the metrics listener (GET /metrics); absent from routers older than metrics. */
  metrics_listen?: string;
  pid: number;
  config: RouterConfig;
  backends: BackendStatus[];
}

/** Written by the router once both of its sockets listen; bp waits for it. */
export interface RouterReady {
  pid: number;
  admin_port: number;
  listen: string;
  /** HOST:PORT the metrics listener is bound to (the port the router picked when none was asked for). */
  metrics_listen: string;
}

export const ROUTER_TOKEN_ENV = 'BP_ROUTER_TOKEN';

/** Checks an untrusted config document; returns a list of problems (empty when valid). */
export function routerConfigProblems(value: unknown): string[] {
  const problems: string[] = [];
  const v = value as Partial<RouterConfig> | null;
  if (!v || typeof v !== 'object') return ['config must be an object'];
  if (typeof v.deployment_id !== 'string') problems.push('deployment_id must be a string');
  if (!Array.isArray(v.draining) || !v.draining.every((d) => typeof d === 'string')) {
    problems.push('draining must be an array of revision ids');
  }
  if (!Array.isArray(v.entries)) return [...problems, 'entries must be an array'];
  let sum = 0;
  const seen = new Set<string>();
  for (const [i, e] of v.entries.entries()) {
    const where = `entries[${i}]`;
    if (!e || typeof e !== 'object') {
      problems.push(`${where} must be an object`);
      continue;
    }
    if (typeof e.revision_id !== 'string') problems.push(`${where}.revision_id must be a string`);
    else if (seen.has(e.revision_id)) problems.push(`${where}: revision "${e.revision_id}" appears twice`);
    else seen.add(e.revision_id);
    if (!Number.isInteger(e.weight_bps) || e.weight_bps < 0 || e.weight_bps > FULL_WEIGHT_BPS) {
      problems.push(`${where}.weight_bps must be an integer 0..10000`);
    } else sum += e.weight_bps;
    if (typeof e.health_path !== 'string' || !e.health_path.startsWith('/')) {
      problems.push(`${where}.health_path must be a path starting with /`);
    }
    if (!Array.isArray(e.backends) || !e.backends.every(isHttpUrl)) {
      problems.push(`${where}.backends must be an array of http:// URLs`);
    }
  }
  if (v.entries.length > 0 && sum !== FULL_WEIGHT_BPS) problems.push(`weights sum to ${sum}, not 10000`);
  return problems;
}

function isHttpUrl(u: unknown): boolean {
  if (typeof u !== 'string') return false;
  try {
    return new URL(u).protocol === 'http:';
  } catch {
    return false;
  }
}
