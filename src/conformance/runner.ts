/**
 * Runs the bench: loads the deployer, checks its config, creates one instance, then runs each
 * selected check on a fresh fixture of its own and cleans up after it through the deployer.
 * A failing, crashing or hanging check never stops the ones after it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadDeployerPlugin } from '../deployers/registry.js';
import type { Deployer, Logger } from '../model/deployer.js';
import { BpError, PluginLoadError, UsageError } from '../model/errors.js';
import { ALL_CHECKS, type Check } from './checks/index.js';
import { checkDeployerConfig } from './config.js';
import { buildFixture, writeFixtureServer } from './fixture.js';
import { Harness } from './harness.js';
import type { CheckResult, ConformanceOptions, ConformanceReport } from './types.js';
import { CheckFailure, CheckSkip, describeError } from './verdict.js';

export const CONFORMANCE_VERB_TIMEOUT_MS = 120_000;

export function checkNames(): string[] {
  return ALL_CHECKS.map((c) => c.name);
}

export function checkSummaries(): Array<{ name: string; summary: string }> {
  return ALL_CHECKS.map(({ name, summary }) => ({ name, summary }));
}

function selectChecks(only: string[] | undefined): Check[] {
  if (!only || only.length === 0) return [...ALL_CHECKS];
  const unknown = only.filter((n) => !ALL_CHECKS.some((c) => c.name === n));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown conformance check ${unknown.map((n) => `"${n}"`).join(', ')}; the checks are: ${checkNames().join(', ')}`,
    );
  }
  return ALL_CHECKS.filter((c) => only.includes(c.name));
}

/** The deployer's log lines would interleave with the report; the bench's verdict is what counts. */
const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function createDeployer(opts: ConformanceOptions, stateDir: string): Promise<Deployer> {
  const plugin = await loadDeployerPlugin(opts.type, opts.baseDir);
  const config = checkDeployerConfig(plugin, opts.type, opts.config);
  try {
    return await plugin.create(config, { logger: quietLogger, stateDir });
  } catch (e) {
    if (BpError.is(e)) throw e;
    throw new PluginLoadError(`deployer "${opts.type}" could not be created: ${describeError(e)}`, { cause: e });
  }
}

function verdictOf(name: string, e: unknown): Omit<CheckResult, 'durationMs'> {
  if (e instanceof CheckSkip) return { name, status: 'skip', message: e.message };
  if (e instanceof CheckFailure) {
    const r: Omit<CheckResult, 'durationMs'> = { name, status: 'fail', message: e.message };
    if (e.expected !== undefined) r.expected = e.expected;
    if (e.observed !== undefined) r.observed = e.observed;
    return r;
  }
  return { name, status: 'fail', message: `the check could not run: ${describeError(e)}` };
}

export async function runConformance(opts: ConformanceOptions): Promise<ConformanceReport> {
  const selected = selectChecks(opts.only);
  const stateDir = resolve(opts.stateDir);
  const deployerDir = join(stateDir, 'deployer');
  const fixtureDir = join(stateDir, 'fixture');
  await mkdir(deployerDir, { recursive: true });
  const serverPath = await writeFixtureServer(fixtureDir);
  const deployer = await createDeployer(opts, deployerDir);
  const timeoutMs = opts.verbTimeoutMs ?? CONFORMANCE_VERB_TIMEOUT_MS;
  // Fresh ids every run, so leftovers of an earlier run in a shared provider are never mistaken for ours.
  const nonce = randomBytes(3).toString('hex');
  const checks: CheckResult[] = [];
  const leaks: string[] = [];
  try {
    for (const check of selected) {
      const index = ALL_CHECKS.indexOf(check) + 1;
      const { ids, env } = await buildFixture({
        prefix: `b${nonce}k${index}`,
        environmentId: `bench-${nonce}`,
        deployerType: opts.type,
        config: opts.config,
        serverPath,
        baseDir: fixtureDir,
        options: opts.fixture,
      });
      const h = new Harness(deployer, env, ids, timeoutMs);
      const started = Date.now();
      let verdict: Omit<CheckResult, 'durationMs'>;
      try {
        await check.run(h);
        verdict = { name: check.name, status: 'pass' };
      } catch (e) {
        verdict = verdictOf(check.name, e);
      }
      const result: CheckResult = { ...verdict, durationMs: Date.now() - started };
      leaks.push(...(await h.cleanup(check.name)));
      checks.push(result);
      opts.onCheck?.(result);
    }
  } finally {
    await closeQuietly(deployer, timeoutMs);
  }
  const count = (s: CheckResult['status']) => checks.filter((c) => c.status === s).length;
  return { deployer: opts.type, checks, passed: count('pass'), failed: count('fail'), skipped: count('skip'), leaks };
}

async function closeQuietly(deployer: Deployer, timeoutMs: number): Promise<void> {
  if (typeof deployer.close !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([deployer.close(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  } catch {
    // A deployer that cannot close cleanly has still been judged; the report is what matters.
  } finally {
    clearTimeout(timer);
  }
}
