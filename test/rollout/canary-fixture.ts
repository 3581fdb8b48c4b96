/**
 * A real canary setup: examples/app behind the local-process router, bp run as a child
 * process, and a traffic generator that records every response (status and which revision
 * answered) and every request the router dropped.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { bp, ROOT, tempDir, type RunResult } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

export interface AppRevision {
  id: string;
  version: string;
  state?: 'ready' | 'inactive' | 'archived';
  errorRate?: number;
}

export class Canary {
  readonly t = tempDir('bp-canary-');
  readonly file: string;
  listen = 0;
  metricsPort = 0;

  constructor() {
    mkdirSync(join(this.t.dir, 'app'));
    copyFileSync(join(ROOT, 'examples', 'app', 'server.mjs'), join(this.t.dir, 'app', 'server.mjs'));
    this.file = join(this.t.dir, 'env.yaml');
  }

  async ports(): Promise<void> {
    this.listen = await freePort();
    this.metricsPort = await freePort();
  }

  write(o: {
    revisions: AppRevision[];
    traffic: Array<[string, number]>;
    steps?: string[];
    onFailure?: string;
    hooks?: string[];
  }): void {
    const lines = [
      'schema: bp.environment/v1',
      'environment_id: demo',
      'deployers: { local: { type: local-process } }',
      'deployments:',
      '  - deployment_id: web',
      '    deployer: local',
      `    listen: 127.0.0.1:${this.listen}`,
      `    metrics_listen: 127.0.0.1:${this.metricsPort}`,
      '    revisions:',
    ];
    for (const r of o.revisions) {
      const env = { VERSION: r.version, ERROR_RATE: String(r.errorRate ?? 0) };
      lines.push(
        `      - revision_id: ${r.id}`,
        `        artifact: { command: [node, app/server.mjs], env: ${JSON.stringify(env)} }`,
        '        health: { http_path: /healthz, timeout_seconds: 20 }',
        '        drain_seconds: 1',
      );
      if (r.state) lines.push(`        state: ${r.state}`);
    }
    lines.push('    traffic:');
    for (const [id, w] of o.traffic) lines.push(`      - { revision_id: ${id}, weight_bps: ${w} }`);
    if (o.steps) {
      lines.push('    rollout:', '      steps:');
      for (const s of o.steps) lines.push(`        - ${s}`);
      if (o.onFailure) lines.push(`      on_failure: ${o.onFailure}`);
    }
    if (o.hooks) {
      lines.push('notifications:');
      for (const url of o.hooks) lines.push(`  - url: ${url}`, '    events: ["rollout.*", "rollout.rolled_back"]');
    }
    writeFileSync(this.file, lines.join('\n') + '\n');
  }

  /**
   * Picks ports, writes the file and runs the first apply. The ports were free a moment ago;
   * should another process bind one first ("already in use"), it tries again with new ones.
   */
  async setup(o: Parameters<Canary['write']>[0]): Promise<RunResult> {
    let result: RunResult | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.ports();
      this.write(o);
      result = await this.run(['apply', this.file, '--auto-approve']);
      if (result.code === 0 || !/already in use/.test(result.stdout + result.stderr)) return result;
      await this.run(['destroy', this.file, '--auto-approve']);
    }
    return result!;
  }

  run(args: string[]): Promise<RunResult> {
    return bp(args, { cwd: this.t.dir, env: { BP_STATE_DIR: join(this.t.dir, '.bp') } });
  }

  async cleanup(): Promise<void> {
    await this.run(['destroy', this.file, '--auto-approve']).catch(() => undefined);
    this.t.cleanup();
  }
}

export interface TrafficStats {
  ok: Map<string, number>;
  statuses: Map<number, number>;
  /** Requests the router did not answer at all (connection refused/reset). */
  dropped: number;
  total: number;
}

/** Keeps `concurrency` request loops running against the router until stopped. */
export function generateTraffic(port: number, concurrency = 2): { stop(): Promise<TrafficStats>; stats: TrafficStats } {
  const stats: TrafficStats = { ok: new Map(), statuses: new Map(), dropped: 0, total: 0 };
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          stats.total++;
          stats.statuses.set(res.statusCode!, (stats.statuses.get(res.statusCode!) ?? 0) + 1);
          const v = String(res.headers['x-version'] ?? '?');
          if (res.statusCode === 200) stats.ok.set(v, (stats.ok.get(v) ?? 0) + 1);
          resolve();
        });
      });
      req.on('error', () => {
        stats.total++;
        stats.dropped++;
        resolve();
      });
    });
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      await one();
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}

/** Which revision answers `n` sequential requests. */
export async function sample(port: number, n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const v = await new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.headers['x-version'])));
        })
        .on('error', () => resolve('dropped'));
    });
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}
