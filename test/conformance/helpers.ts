/** Shared set-up for the bench's own tests: real plugin files, real scratch directories. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { runConformance, type ConformanceOptions, type ConformanceReport } from '../../src/conformance/index.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const MEMORY_PLUGIN = './examples/plugins/memory-deployer.mjs';
export const BROKEN_DIR = join(REPO_ROOT, 'test/fixtures/broken-deployers');

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bp-bench-test-'));
  scratch.push(dir);
  return dir;
}

export function bench(type: string, over: Partial<ConformanceOptions> = {}): Promise<ConformanceReport> {
  return runConformance({ type, baseDir: REPO_ROOT, config: {}, stateDir: scratchDir(), ...over });
}

export function namesWith(report: ConformanceReport, status: 'pass' | 'fail' | 'skip'): string[] {
  return report.checks.filter((c) => c.status === status).map((c) => c.name);
}
