import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNames, type CheckResult } from '../../src/conformance/index.js';
import { bench, BROKEN_DIR, MEMORY_PLUGIN, namesWith, scratchDir } from './helpers.js';

/** Each deliberately broken deployer, and exactly the checks that must catch it. */
const BROKEN: Record<string, string[]> = {
  'accepts-unknown-revision': ['unknown-revision'],
  'changes-provider-before-rejecting': ['unknown-revision'],
  'non-idempotent-warm': ['idempotent-warm'],
  'archive-fails-when-gone': ['idempotent-archive', 'archive-clean'],
  'leaks-on-archive': ['happy-path', 'archive-clean', 'concurrency'],
  'keeps-routing': ['happy-path'],
  'lax-split': ['invalid-split'],
  'touches-sibling-split': ['split-isolation'],
  'misreports-deployment': ['split-outcome'],
  'ignores-abort': ['abort'],
  'untyped-provider-error': ['error-shape'],
  'racy-provider': ['concurrency'],
  'wrong-runtime-config': ['runtime-config'],
};

describe('the bench on the example memory plugin', () => {
  it('passes every check, leaks nothing and streams each result', async () => {
    const streamed: CheckResult[] = [];
    const report = await bench(MEMORY_PLUGIN, { onCheck: (r) => streamed.push(r) });
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report).toMatchObject({
      deployer: MEMORY_PLUGIN,
      passed: checkNames().length,
      failed: 0,
      skipped: 0,
      leaks: [],
    });
    expect(streamed).toEqual(report.checks);
  }, 30_000);

  it('runs at least the checks the contract names', () => {
    expect(checkNames().length).toBeGreaterThanOrEqual(16);
    for (const name of [
      'happy-path',
      'idempotent-warm',
      'unknown-revision',
      'invalid-split',
      'missing-split',
      'split-isolation',
      'split-outcome',
      'archive-clean',
      'runtime-config',
      'abort',
      'concurrency',
      'error-shape',
    ]) {
      expect(checkNames()).toContain(name);
    }
  });
});

describe('the bench on deliberately broken deployers', () => {
  it('has an expectation for every broken deployer shipped', () => {
    const shipped = readdirSync(BROKEN_DIR)
      .filter((f) => f.endsWith('.mjs') && f !== 'base.mjs' && f !== 'hangs-on-warm.mjs')
      .map((f) => f.replace(/\.mjs$/, ''))
      .sort();
    expect(shipped).toEqual(Object.keys(BROKEN).sort());
    expect(shipped.length).toBeGreaterThanOrEqual(8);
  });

  for (const [name, failing] of Object.entries(BROKEN)) {
    it(`fails ${name} on ${failing.join(', ')} and still runs every other check`, async () => {
      const report = await bench(join(BROKEN_DIR, `${name}.mjs`));
      expect(report.checks.map((c) => c.name)).toEqual(checkNames());
      expect(namesWith(report, 'fail').sort()).toEqual([...failing].sort());
      expect(report.failed).toBe(failing.length);
      expect(report.passed).toBe(checkNames().length - failing.length);
      for (const c of report.checks.filter((x) => x.status === 'fail')) {
        expect(c.message, c.name).toBeTruthy();
      }
    }, 60_000);
  }

  it('reports what a leaking archive leaves behind', async () => {
    const report = await bench(join(BROKEN_DIR, 'leaks-on-archive.mjs'), { only: ['archive-clean'] });
    expect(report.failed).toBe(1);
    expect(report.leaks.length).toBeGreaterThan(0);
    expect(report.leaks.every((l) => l.startsWith('archive-clean: revision '))).toBe(true);
  }, 30_000);

  it('reports the leftover of a refused call that changed the provider as a leak', async () => {
    const report = await bench(join(BROKEN_DIR, 'changes-provider-before-rejecting.mjs'), {
      only: ['unknown-revision'],
    });
    const check = report.checks[0];
    expect(check.status).toBe('fail');
    expect(check.message).toContain('observe changed');
    expect(report.leaks).toHaveLength(1);
    expect(report.leaks[0]).toMatch(/-ghost still observed unhealthy after cleanup \(not in the environment/);
  }, 30_000);

  it('bounds every call in time: a warm that never settles fails checks instead of hanging the bench', async () => {
    const started = Date.now();
    const report = await bench(join(BROKEN_DIR, 'hangs-on-warm.mjs'), { verbTimeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(report.checks.map((c) => c.name)).toEqual(checkNames());
    const failed = report.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.name)).toContain('happy-path');
    for (const c of failed) expect(c.message, c.name).toMatch(/did not settle within 200 ms/);
    expect(namesWith(report, 'pass')).toEqual(
      expect.arrayContaining(['idempotent-stage', 'unknown-revision', 'error-shape']),
    );
  }, 30_000);
});

describe('check selection and deployer config', () => {
  it('runs only the checks named, in the bench order', async () => {
    const report = await bench(MEMORY_PLUGIN, { only: ['abort', 'happy-path'] });
    expect(report.checks.map((c) => c.name)).toEqual(['happy-path', 'abort']);
    expect(report).toMatchObject({ passed: 2, failed: 0, skipped: 0 });
  }, 30_000);

  it('rejects an unknown check name with a usage error listing the checks', async () => {
    await expect(bench(MEMORY_PLUGIN, { only: ['happy-path', 'no-such-check'] })).rejects.toMatchObject({
      code: 'Usage',
      message: expect.stringMatching(/"no-such-check".*happy-path/),
    });
  });

  it('checks the config against the plugin configSchema before create', async () => {
    await expect(bench(MEMORY_PLUGIN, { config: { file: 5 } })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringContaining('/file must be string'),
    });
    await expect(bench(MEMORY_PLUGIN, { config: { bogus: true } })).rejects.toMatchObject({ code: 'InvalidInput' });
  });

  it('creates the deployer with schema defaults filled in and its own state directory', async () => {
    const stateDir = scratchDir();
    const report = await bench(MEMORY_PLUGIN, { stateDir, only: ['idempotent-stage'] });
    expect(report.passed).toBe(1);
    expect(existsSync(join(stateDir, 'deployer', 'provider.json'))).toBe(true);
    expect(existsSync(join(stateDir, 'fixture', 'revision-server.mjs'))).toBe(true);
  }, 30_000);

  it('fails to start on a plugin that cannot be loaded', async () => {
    await expect(bench('./no/such/plugin.mjs')).rejects.toMatchObject({ code: 'PluginLoad' });
  });
});
