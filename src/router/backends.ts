/**
 * Backends and the routing table. A backend outlives config reloads (keyed by URL) so its
 * keep-alive sockets, health and in-flight count carry over; the table is swapped whole on
 * every reload, so a request always sees one consistent config.
 */
import http from 'node:http';
import type { BackendStatus, RouterConfig } from './config.js';
import { type EnforcedWeight, RevisionMetrics, RouterMetrics } from './metrics.js';
import { SmoothWeightedRoundRobin } from './swrr.js';

const HEALTH_TIMEOUT_MS = 1000;

export class Backend {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly agent: http.Agent;
  revisionId: string;
  healthPath: string;
  /** The revision's counters, held here so recording a request needs no lookup. */
  metrics: RevisionMetrics;
  healthy = true;
  inFlight = 0;
  requests = 0;
  lastError: string | null = null;
  retired = false;
  private checking = false;

  constructor(
    url: string,
    revisionId: string,
    healthPath: string,
    metrics: RevisionMetrics = new RevisionMetrics(revisionId),
  ) {
    const u = new URL(url);
    this.metrics = metrics;
    this.url = url;
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.revisionId = revisionId;
    this.healthPath = healthPath;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
  }

  /** Counts a request as in flight; the returned function (idempotent) ends it. */
  acquire(): () => void {
    this.inFlight++;
    this.requests++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      if (this.retired && this.inFlight === 0) this.agent.destroy();
    };
  }

  /** Passive health: a connection-level failure takes the backend out until a check passes. */
  markDown(reason: string): void {
    this.healthy = false;
    this.lastError = reason;
  }

  private inProgress: Promise<void> = Promise.resolve();

  /** Active health: one probe at a time; resolves when the probe in progress settles. */
  check(): Promise<void> {
    if (this.checking || this.retired) return this.inProgress;
    this.checking = true;
    let settle: () => void = () => undefined;
    this.inProgress = new Promise<void>((r) => (settle = r));
    const done = (ok: boolean, reason: string | null): void => {
      this.checking = false;
      this.healthy = ok;
      if (reason) this.lastError = reason;
      settle();
    };
    const req = http.get(
      { host: this.host, port: this.port, path: this.healthPath, agent: false, timeout: HEALTH_TIMEOUT_MS },
      (res) => {
        res.resume();
        const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
        done(ok, ok ? null : `health check ${this.healthPath} answered ${res.statusCode}`);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`health check timed out after ${HEALTH_TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => done(false, `health check failed: ${e.code ?? e.message}`));
    return this.inProgress;
  }

  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.agent.destroy();
  }

  status(): BackendStatus {
    return {
      url: this.url,
      revision_id: this.revisionId,
      healthy: this.healthy,
      in_flight: this.inFlight,
      requests: this.requests,
      last_error: this.lastError,
    };
  }
}

interface RevisionSlot {
  revisionId: string;
  backends: Backend[];
  nextReplica: number;
}

/** Picks backends: smooth weighted round-robin across revisions, round-robin within one. */
class RoutingTable {
  private readonly swrr: SmoothWeightedRoundRobin<RevisionSlot>;

  constructor(slots: { slot: RevisionSlot; weight: number }[]) {
    this.swrr = new SmoothWeightedRoundRobin(slots.map((s) => ({ value: s.slot, weight: s.weight })));
  }

  pick(exclude?: Backend): Backend | undefined {
    const usable = (b: Backend): boolean => b.healthy && !b.retired && b !== exclude;
    const slot = this.swrr.next((s) => s.backends.some(usable));
    if (!slot) return undefined;
    const n = slot.backends.length;
    for (let i = 0; i < n; i++) {
      const b = slot.backends[slot.nextReplica++ % n];
      if (usable(b)) return b;
    }
    return undefined;
  }
}

export class BackendPool {
  private backends = new Map<string, Backend>();
  /** Removed from the config but still finishing requests: reported so drains can wait. */
  private readonly leaving = new Set<Backend>();
  private table = new RoutingTable([]);
  private timer: NodeJS.Timeout | null = null;
  config: RouterConfig;

  readonly metrics: RouterMetrics;

  constructor(
    config: RouterConfig,
    healthIntervalMs: number,
    metrics: RouterMetrics = new RouterMetrics(config.deployment_id),
  ) {
    this.metrics = metrics;
    this.config = config;
    this.apply(config);
    this.timer = setInterval(() => this.checkAll(), healthIntervalMs);
  }

  /** Swaps in a new config; backends already known keep their sockets and counters. */
  apply(config: RouterConfig): void {
    const next = new Map<string, Backend>();
    const slots: { slot: RevisionSlot; weight: number }[] = [];
    const draining = new Set(config.draining);
    for (const entry of config.entries) {
      const slot: RevisionSlot = { revisionId: entry.revision_id, backends: [], nextReplica: 0 };
      for (const url of entry.backends) {
        let b = this.backends.get(url) ?? next.get(url);
        const metrics = this.metrics.forRevision(entry.revision_id);
        if (!b) {
          b = new Backend(url, entry.revision_id, entry.health_path, metrics);
          void b.check();
        }
        b.revisionId = entry.revision_id;
        b.metrics = metrics;
        b.healthPath = entry.health_path;
        next.set(url, b);
        slot.backends.push(b);
      }
      if (!draining.has(entry.revision_id)) slots.push({ slot, weight: entry.weight_bps });
    }
    for (const [url, b] of this.backends) {
      if (next.has(url)) continue;
      b.retire();
      if (b.inFlight > 0) this.leaving.add(b);
    }
    this.backends = next;
    this.table = new RoutingTable(slots);
    this.config = config;
  }

  pick(exclude?: Backend): Backend | undefined {
    return this.table.pick(exclude);
  }

  /** The weights the routing table enforces now: a draining revision gets no new requests. */
  enforcedWeights(): EnforcedWeight[] {
    const draining = new Set(this.config.draining);
    return this.config.entries.map((e) => ({
      revision_id: e.revision_id,
      weight_bps: draining.has(e.revision_id) ? 0 : e.weight_bps,
    }));
  }

  checkAll(): void {
    for (const b of this.backends.values()) void b.check();
  }

  /**
   * Re-probes the backends marked down, so a config pushed right after a replica was
   * replaced takes effect at once instead of after the next periodic check.
   */
  recheckUnhealthy(): Promise<void> {
    return Promise.all([...this.backends.values()].filter((b) => !b.healthy).map((b) => b.check())).then(
      () => undefined,
    );
  }

  private live(): Backend[] {
    for (const b of this.leaving) if (b.inFlight === 0 || this.backends.get(b.url) === b) this.leaving.delete(b);
    return [...this.backends.values(), ...this.leaving];
  }

  status(): BackendStatus[] {
    return this.live().map((b) => b.status());
  }

  totalInFlight(): number {
    return this.live().reduce((n, b) => n + b.inFlight, 0);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const b of this.backends.values()) b.retire();
  }
}
