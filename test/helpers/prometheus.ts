/**
 * A real Prometheus server for tests: Debian's `prometheus` package (CI installs it), on a
 * free loopback port, with its TSDB in a temp dir, scraping the given targets every second.
 *
 *   const prom = await startPrometheus({ scrapeTargets: ['127.0.0.1:PORT'] });
 *   ... prom.url ...
 *   await prom.stop();   // kills it and removes its temp dir (also done at process exit)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const PROMETHEUS_BIN = process.env.BP_TEST_PROMETHEUS ?? '/usr/bin/prometheus';

export interface StartPrometheusOptions {
  /** HOST:PORT of each metrics listener to scrape (path /metrics). */
  scrapeTargets: string[];
  /** Seconds between scrapes (default 1). */
  scrapeIntervalSeconds?: number;
  /** How long to wait for the server and every target to be up (default 60 s). */
  startTimeoutMs?: number;
}

export interface RunningPrometheus {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Everything Prometheus logged so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const live = new Set<{ child: ChildProcess; dir: string }>();
// A test that dies before its afterAll must not leave a Prometheus running or its TSDB behind.
process.once('exit', () => {
  for (const p of live) {
    p.child.kill('SIGKILL');
    rmSync(p.dir, { recursive: true, force: true });
  }
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface TargetsResponse {
  data?: { activeTargets?: { scrapeUrl: string; health: string; lastError: string }[] };
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(
      `${PROMETHEUS_BIN} is missing: install Debian's prometheus package (apt-get install -y prometheus); CI installs it`,
    );
  }
  const interval = opts.scrapeIntervalSeconds ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'bp-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    `  scrape_interval: ${interval}s`,
    `  scrape_timeout: ${interval}s`,
    'scrape_configs:',
    '  - job_name: bp-router',
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: [${opts.scrapeTargets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const entry = { child, dir };
  live.add(entry);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    live.delete(entry);
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
      const targets = await fetch(`${url}/api/v1/targets?state=active`)
        .then((r) => r.json() as Promise<TargetsResponse>)
        .catch(() => null);
      const active = targets?.data?.activeTargets ?? [];
      if (active.length === opts.scrapeTargets.length && active.every((t) => t.health === 'up')) break;
      if (Date.now() > deadline) {
        throw new Error(
          `prometheus at ${url} did not scrape every target within the timeout: ` +
            `${JSON.stringify(active.map((t) => ({ url: t.scrapeUrl, health: t.health, error: t.lastError })))}\n${output}`,
        );
      }
      await sleep(200);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, log: () => output, stop };
}
