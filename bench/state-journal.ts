/**
 * How much does recording an apply's progress cost? Records, through LocalStateBackend,
 * what an apply of N steps records (per step: intent before the verb, outcome after) with
 * 10 steps in flight, on top of a state that already holds N revisions. If recording were
 * O(state) per step, 10x the steps would cost ~100x the time; journaling keeps it ~10x.
 *
 *   npx tsx bench/state-journal.ts [STEPS...]     (default: 1000 10000)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { emptyState, type RecordedRevision, type RecordedState } from '../src/model/state.js';
import { LocalStateBackend } from '../src/state/local.js';

const CONCURRENCY = 10;

function revision(id: string, lifecycle: RecordedRevision['lifecycle'], at: string): RecordedRevision {
  return {
    revision_id: id,
    deployment_id: 'd',
    lifecycle,
    spec: {
      artifact: { command: ['node', 'server.js'], env: { GREETING: 'hello' } },
      resources: { cpu: 0.25, memory_mb: 128, replicas: 1, gpu: 0 },
      health: { http_path: '/healthz', timeout_seconds: 30 },
    },
    drain_seconds: 30,
    ttl: null,
    staged_at: at,
    updated_at: at,
    outputs: { pid: 1234 },
    endpoint: null,
    last_error: null,
  };
}

interface Result {
  steps: number;
  recordMs: number;
  /** CPU of this process (user+sys, main thread and libuv's pool) while recording. */
  recordCpuMs: number;
  fsyncs: number;
  records: number;
  checkpointMs: number;
  loadMs: number;
  journalBytes: number;
}

async function run(steps: number): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'bp-bench-state-'));
  try {
    const backend = new LocalStateBackend(dir);
    const session = await backend.lock('bench', { operation: 'bench', timeoutMs: 0 });
    const now = new Date().toISOString();
    const state: RecordedState = emptyState('bench', randomUUID(), new Date());
    for (let i = 0; i < steps; i++) state.revisions[`r${i}`] = revision(`r${i}`, 'staged', now);
    await session.begin(state);

    const fsyncsBefore = backend.stats.fsyncs;
    const recordsBefore = backend.stats.journalRecords;
    let next = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    async function worker(): Promise<void> {
      for (let i = next++; i < steps; i = next++) {
        const stepId = `warm:d/r${i}`;
        await session.record([
          { kind: 'pending', op: { step_id: stepId, started_at: now, lock_id: session.lock.id } },
          { kind: 'revision', revision: revision(`r${i}`, 'warming', now) },
        ]);
        await session.record([
          {
            kind: 'revision',
            revision: { ...revision(`r${i}`, 'ready', now), endpoint: `http://127.0.0.1:${20000 + (i % 40000)}` },
          },
          { kind: 'pending_done', step_id: stepId },
        ]);
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const recordMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const recordCpuMs = (cpu.user + cpu.system) / 1000;
    const fsyncs = backend.stats.fsyncs - fsyncsBefore;
    const records = backend.stats.journalRecords - recordsBefore;
    const journalBytes = (await stat(join(dir, 'envs', 'bench', 'journal.ndjson'))).size;

    const loadStarted = performance.now();
    const loaded = (await backend.load('bench'))!;
    const loadMs = performance.now() - loadStarted;
    if (Object.keys(loaded.pending).length !== 0 || loaded.revisions[`r${steps - 1}`]?.lifecycle !== 'ready') {
      throw new Error('replayed state does not match what was recorded');
    }

    const checkpointStarted = performance.now();
    await session.checkpoint(loaded);
    const checkpointMs = performance.now() - checkpointStarted;
    await session.release();
    return { steps, recordMs, recordCpuMs, fsyncs, records, checkpointMs, loadMs, journalBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const results: Result[] = [];
for (const steps of sizes.length > 0 ? sizes : [1000, 10_000]) {
  const r = await run(steps);
  results.push(r);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${String(r.steps).padStart(6)} steps: record ${r.recordMs.toFixed(0)} ms ` +
      `(${((r.recordMs * 1000) / r.steps).toFixed(1)} us/step wall, ${((r.recordCpuMs * 1000) / r.steps).toFixed(1)} us/step CPU), ` +
      `${r.records} records in ${r.fsyncs} fsyncs (${(r.records / Math.max(1, r.fsyncs)).toFixed(1)} records/fsync), ` +
      `journal ${(r.journalBytes / 1024 / 1024).toFixed(1)} MiB, replay-on-load ${r.loadMs.toFixed(0)} ms, ` +
      `checkpoint ${r.checkpointMs.toFixed(0)} ms, peak RSS ${peakRssMb.toFixed(0)} MiB`,
  );
}
if (results.length >= 2) {
  const [a, b] = [results[0], results[results.length - 1]];
  console.log(
    `scaling: ${b.steps / a.steps}x the steps took ${(b.recordMs / a.recordMs).toFixed(1)}x the recording time ` +
      `(linear would be ${b.steps / a.steps}x; per-step cost ${((a.recordMs * 1000) / a.steps).toFixed(1)} -> ${((b.recordMs * 1000) / b.steps).toFixed(1)} us)`,
  );
}
