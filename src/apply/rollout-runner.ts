/**
 * Carries out a rollout split step: walks the rollout's steps (weights, pauses, analyses)
 * through the deployer, recording progress after each, until the declared split is enforced,
 * a pause holds it, or an analysis fails (then rollback or halt, as the file says).
 * What to do next is decided by the pure `nextAction` in src/plan/rollout.ts.
 */
import type { Deployer, DeployerEnvironment } from '../model/deployer.js';
import type { Analysis, SplitEntry } from '../model/environment.js';
import { AbortedError, BpError } from '../model/errors.js';
import type { PlanStep } from '../model/plan.js';
import type { Mutation, RecordedState, RolloutMeasurement, RolloutProgress } from '../model/state.js';
import { mutationsOnStart, mutationsOnSuccess, type OutcomeContext } from '../plan/outcome.js';
import { formatBps, formatSplit, nextAction, resumeOrBegin } from '../plan/rollout.js';
import { weightOf } from '../plan/splits.js';
import type { MeasurementWindow, MeasureTarget } from '../rollout/analysis/index.js';
import { type EventSink, progressReporter } from './events.js';
import { checkSplitResult } from './plugin-results.js';

/** How analyses measure; the default is src/rollout/analysis, tests may swap it. */
export interface AnalysisDeps {
  openWindow(analysis: Analysis, target: MeasureTarget, signal: AbortSignal): Promise<MeasurementWindow>;
  intervalMs(analysis: Analysis): number;
}

export interface RolloutRunContext {
  step: PlanStep;
  environmentId: string;
  deployer: Deployer;
  /** The deployer's view with this deployment's traffic set to `entries` (or as recorded). */
  view(entries?: SplitEntry[]): DeployerEnvironment;
  state: RecordedState;
  record(mutations: Mutation[]): Promise<void>;
  outcomeCtx(): OutcomeContext;
  clock(): Date;
  /** First interrupt: stop at the next step boundary, progress kept. */
  stop: AbortSignal;
  /** Second interrupt: abort what runs. */
  kill: AbortSignal;
  /** Epoch ms until which pauses may be waited through (`--wait`); null: stop at the first pause. */
  waitUntil: number | null;
  /** Runs one deployer call with the verb's timeout and retries. */
  call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  analysis: AnalysisDeps;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  emit: EventSink;
}

export type RolloutRunResult =
  { kind: 'completed' } | { kind: 'held'; message: string } | { kind: 'failed'; message: string };

export async function runRollout(c: RolloutRunContext): Promise<RolloutRunResult> {
  const planned = c.step.rollout!;
  const target = c.step.split!.after;
  const deploymentId = c.step.deployment_id;
  const recorded = c.state.deployments[deploymentId]?.rollout ?? null;
  let p = resumeOrBegin(planned, recorded, target, c.clock());

  const save = async (patch: Partial<RolloutProgress>, announce = true) => {
    p = { ...p, ...patch, updated_at: c.clock().toISOString() };
    await c.record([{ kind: 'rollout', deployment_id: deploymentId, rollout: structuredClone(p) }]);
    if (announce)
      c.emit({ type: 'rollout', deployment_id: deploymentId, canary: p.canary, status: p.status, message: p.message });
  };
  const canaryWeight = () => weightOf(c.state.deployments[deploymentId]?.split ?? [], p.canary);
  const advance = (message: string) =>
    save(
      {
        step: p.step + 1,
        step_started_at: c.clock().toISOString(),
        pause_until: null,
        promoted: p.promoted === 'full' ? 'full' : null,
        status: 'progressing',
        message,
      },
      false,
    );
  const enforce = (entries: SplitEntry[]) => enforceSplit(c, entries);
  const where = () => `step ${Math.min(p.step + 1, p.steps.length)}/${p.steps.length}`;

  if (p !== recorded) await save({}, true);
  for (;;) {
    if (c.stop.aborted)
      return { kind: 'held', message: `rollout of ${p.canary} interrupted at ${where()}; run bp apply again to go on` };
    if (p.status === 'halted' && p.promoted === null) {
      return {
        kind: 'failed',
        message: `rollout of ${p.canary} is halted: ${p.message}; run bp rollout promote or bp rollout abort`,
      };
    }
    const action = nextAction(p, canaryWeight());
    switch (action.kind) {
      case 'final':
        await enforce(action.entries);
        await save({
          step: p.steps.length,
          status: 'completed',
          promoted: null,
          pause_until: null,
          message: `reached ${formatSplit(action.entries)}`,
        });
        return { kind: 'completed' };
      case 'skip':
        await advance(`skipped step ${action.step + 1}: ${action.why}`);
        break;
      case 'weight':
        await enforce(action.entries);
        c.emit({
          type: 'rollout',
          deployment_id: deploymentId,
          canary: p.canary,
          status: p.status,
          message: `${formatSplit(action.entries)} (${where()})`,
        });
        await advance(`${p.canary} at ${formatBps(action.weight_bps)}`);
        break;
      case 'pause': {
        if (p.promoted !== null) {
          await advance(`pause at step ${action.step + 1} promoted`);
          break;
        }
        const now = c.clock().getTime();
        if (action.until && now >= action.until.getTime()) {
          await advance(`pause at step ${action.step + 1} ended`);
          break;
        }
        const until = action.until?.toISOString() ?? null;
        const message = action.until
          ? `paused at ${where()} until ${until} (${Math.ceil((action.until.getTime() - now) / 1000)}s left)`
          : `paused at ${where()} until bp rollout promote ${c.environmentId} ${deploymentId}`;
        if (p.status !== 'paused' || p.pause_until !== until)
          await save({ status: 'paused', pause_until: until, message });
        if (action.until && c.waitUntil !== null && action.until.getTime() <= c.waitUntil) {
          // Interrupted or not, the loop looks again: the pause has ended, or stop is set.
          await sleepUnlessStopped(c, action.until.getTime() - now);
          break;
        }
        return { kind: 'held', message: `rollout of ${p.canary} ${message}` };
      }
      case 'analysis': {
        if (p.promoted !== null) {
          await advance(`analysis at step ${action.step + 1} passed over by promote`);
          break;
        }
        const verdict = await analyze(c, action.analysis, p, (m) =>
          save(
            { measurements: keptMeasurements([...p.measurements, { ...m, step: p.step + 1 }]), message: m.detail },
            false,
          ),
        );
        if (verdict === 'stopped') break;
        if (verdict === 'passed') {
          await advance(`analysis ${action.analysis.metric} at step ${action.step + 1} passed`);
          break;
        }
        return fail(c, p, save, enforce, `analysis at ${where()} failed: ${verdict.reason}`);
      }
    }
  }
}

/**
 * Enforces `entries` through the deployer (with the verb's timeout and retries) and records
 * them. The deployer's answer is checked as the executor checks a split step's: a split
 * applied to another deployment or with other weights fails the rollout step, naming the
 * difference, and is never recorded as enforced.
 */
async function enforceSplit(c: RolloutRunContext, entries: SplitEntry[]): Promise<void> {
  const deploymentId = c.step.deployment_id;
  const what = `the deployer's applyTrafficSplit of split:${deploymentId} (rollout step ${formatSplit(entries)})`;
  await c.call(`split:${deploymentId}`, async (signal) =>
    checkSplitResult(
      what,
      await c.deployer.applyTrafficSplit(c.view(entries), deploymentId, { signal }),
      deploymentId,
      entries,
    ),
  );
  const splitStep: PlanStep = {
    ...c.step,
    split: { before: c.state.deployments[deploymentId]?.split ?? [], after: entries },
  };
  await c.record(mutationsOnSuccess(splitStep, c.outcomeCtx(), { applied_entries: entries }));
}

/**
 * A canary whose warm failed cannot take (more) traffic: with `on_failure: rollback` the
 * rollout is recorded as rolled back, the stable split enforced again if the canary already
 * carried some, so the next plan holds the deployment until the file changes.
 */
export async function rollBackFailedWarm(c: RolloutRunContext, error: string): Promise<void> {
  const deploymentId = c.step.deployment_id;
  const p = resumeOrBegin(
    c.step.rollout!,
    c.state.deployments[deploymentId]?.rollout ?? null,
    c.step.split!.after,
    c.clock(),
  );
  let restored = 'the stable split was never left';
  if (weightOf(c.state.deployments[deploymentId]?.split ?? [], p.canary) > 0) {
    await enforceSplit(c, p.stable);
    restored = `${formatSplit(p.stable)} restored`;
  }
  const message = `warm of ${p.canary} failed (${error}); ${restored}`;
  const rolledBack: RolloutProgress = { ...p, status: 'rolled_back', message, updated_at: c.clock().toISOString() };
  await c.record([{ kind: 'rollout', deployment_id: deploymentId, rollout: rolledBack }]);
  c.emit({ type: 'rollout_rolled_back', deployment_id: deploymentId, canary: p.canary, message });
}

/** Measurements kept per rollout: the most recent, so state stays bounded however long a rollout runs. */
export const MAX_KEPT_MEASUREMENTS = 5000;

function keptMeasurements(all: RolloutMeasurement[]): RolloutMeasurement[] {
  return all.length > MAX_KEPT_MEASUREMENTS ? all.slice(-MAX_KEPT_MEASUREMENTS) : all;
}

/** Runs the rest of an analysis; 'stopped' when interrupted (measurements so far are kept). */
async function analyze(
  c: RolloutRunContext,
  a: Analysis,
  p: RolloutProgress,
  keep: (m: RolloutMeasurement) => Promise<void>,
): Promise<'passed' | 'stopped' | { reason: string }> {
  // Only this step's measurements count (older state without `step` holds only the current step's).
  const measured = p.measurements.filter((m) => (m.step ?? p.step + 1) === p.step + 1);
  const target: MeasureTarget = {
    environmentId: c.environmentId,
    deploymentId: c.step.deployment_id,
    revisionId: p.canary,
    scrape: c.deployer.scrapeMetrics
      ? (signal) => c.deployer.scrapeMetrics!(c.view(), c.step.deployment_id, { signal })
      : null,
  };
  for (;;) {
    const passes = measured.filter((m) => m.verdict === 'pass').length;
    const inconclusive = measured.filter((m) => m.verdict === 'inconclusive').length;
    if (passes >= a.count) return 'passed';
    // No data as often as the analysis has measurements to take: the canary is not being measured.
    if (inconclusive >= a.count) {
      return {
        reason: `${a.metric} had no data in ${inconclusive} of ${measured.length} measurements (${measured[measured.length - 1].detail})`,
      };
    }
    if (c.stop.aborted) return 'stopped';
    let m: RolloutMeasurement;
    try {
      const window = await c.call(`analysis ${a.metric}`, (signal) => c.analysis.openWindow(a, target, signal));
      if (!(await sleepUnlessStopped(c, c.analysis.intervalMs(a)))) return 'stopped';
      m = await c.call(`analysis ${a.metric}`, (signal) => window.finish(signal));
    } catch (e) {
      if (e instanceof AbortedError || c.kill.aborted) return 'stopped';
      return { reason: `cannot measure ${a.metric}: ${(e as Error).message}` };
    }
    measured.push(m);
    await keep(m);
    c.emit({
      type: 'rollout',
      deployment_id: c.step.deployment_id,
      canary: p.canary,
      status: 'progressing',
      message: `measured ${m.detail}`,
    });
    if (m.verdict === 'fail') return { reason: m.detail };
  }
}

async function fail(
  c: RolloutRunContext,
  p: RolloutProgress,
  save: (patch: Partial<RolloutProgress>, announce?: boolean) => Promise<void>,
  enforce: (entries: SplitEntry[]) => Promise<void>,
  reason: string,
): Promise<RolloutRunResult> {
  if (p.on_failure === 'pause') {
    await save({ status: 'halted', promoted: null, message: reason });
    return {
      kind: 'failed',
      message: `rollout of ${p.canary} halted: ${reason}; run bp rollout promote or bp rollout abort`,
    };
  }
  const message = await rollBack(c, p, enforce, reason);
  await save({ status: 'rolled_back', promoted: null, pause_until: null, message });
  c.emit({ type: 'rollout_rolled_back', deployment_id: c.step.deployment_id, canary: p.canary, message });
  return { kind: 'failed', message: `rollout of ${p.canary} rolled back: ${message}` };
}

/** Enforces the stable split at once, then drains the canary (not archived: the operator may want to look). */
async function rollBack(
  c: RolloutRunContext,
  p: RolloutProgress,
  enforce: (entries: SplitEntry[]) => Promise<void>,
  reason: string,
): Promise<string> {
  await enforce(p.stable);
  let drained = 'the canary was drained';
  try {
    await drainCanary(c, p.canary);
  } catch (e) {
    drained = `draining the canary failed (${(e as Error).message}); the next apply drains it`;
  }
  return `${reason}; ${formatSplit(p.stable)} restored and ${drained}`;
}

/**
 * Drains the canary as its own recorded step. Its progress (what the drain waits for, the time
 * left) shows under the rollout's split step, the one the operator sees running.
 */
export async function drainCanary(
  c: Pick<RolloutRunContext, 'step' | 'state' | 'record' | 'outcomeCtx' | 'call' | 'deployer' | 'view' | 'emit'>,
  canary: string,
): Promise<void> {
  const rec = c.state.revisions[canary];
  if (!rec || rec.lifecycle !== 'ready') return;
  const step: PlanStep = {
    id: `drain:${c.step.deployment_id}/${canary}`,
    verb: 'drain',
    deployment_id: c.step.deployment_id,
    revision_id: canary,
    depends_on: [],
    reason: 'rollout rolled back',
    from: 'ready',
    to: 'inactive',
  };
  await c.record(mutationsOnStart(step, c.outcomeCtx()));
  const progress = progressReporter(c.step, c.emit);
  await c.call(step.id, (signal) => c.deployer.drainRevision(c.view(), canary, { signal, progress }));
  await c.record(mutationsOnSuccess(step, c.outcomeCtx(), {}));
}

async function sleepUnlessStopped(c: RolloutRunContext, ms: number): Promise<boolean> {
  if (ms <= 0) return !c.stop.aborted;
  try {
    await c.sleep(ms, c.stop);
    return true;
  } catch (e) {
    if (e instanceof AbortedError || BpError.is(e)) return false;
    throw e;
  }
}
