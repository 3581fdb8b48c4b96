/**
 * Drives one deployer through one check the way bp's engine would: every call gets a fresh
 * copy of the environment with the lifecycle, outputs and endpoints recorded so far, a signal,
 * and a time bound. Judgement always goes through `observe`, never through return values.
 */
import type { Deployer, DeployerEnvironment, DeployerRevision, Observation } from '../model/deployer.js';
import type { SplitEntry } from '../model/environment.js';
import { STATE_FORMAT, type RecordedState } from '../model/state.js';
import type { FixtureIds } from './fixture.js';
import { archiveWithRouting, ReleaseRun } from '../apply/archive.js';
import { observationProblem, snapshotOf, type Snapshot } from './snapshot.js';
import { canonicalJson, CheckFailure, describeError } from './verdict.js';

export type BenchVerb = 'stage' | 'warm' | 'drain' | 'archive' | 'split';
export const REVISION_VERBS = ['stage', 'warm', 'drain', 'archive'] as const satisfies readonly BenchVerb[];

/** A call that was made, kept so it can be repeated identically. */
export interface Call<T = unknown> {
  verb: BenchVerb;
  target: string;
  env: DeployerEnvironment;
  result: T;
}

export type Attempt = { ok: true; value: unknown } | { ok: false; error: unknown };

export class Harness {
  /** Splits the bench has enforced through the deployer, as recorded state would hold them. */
  private readonly enforced = new Map<string, SplitEntry[]>();
  /** When routing is released, decided as the engine decides it (the deployer never does). */
  private readonly releases = new ReleaseRun();

  constructor(
    readonly deployer: Deployer,
    readonly env: DeployerEnvironment,
    readonly ids: FixtureIds,
    private readonly timeoutMs: number,
  ) {}

  revision(id: string): DeployerRevision {
    for (const d of this.env.deployments) {
      const r = d.revisions.find((x) => x.revision_id === id);
      if (r) return r;
    }
    throw new Error(`bench fixture has no revision ${id}`);
  }

  /** The fixture deployment a revision belongs to ('' when none: the deployer rejects it). */
  deploymentOf(revisionId: string): string {
    const d = this.env.deployments.find((x) => x.revisions.some((r) => r.revision_id === revisionId));
    return d?.deployment_id ?? '';
  }

  setTraffic(deploymentId: string, entries: SplitEntry[]): void {
    const d = this.env.deployments.find((x) => x.deployment_id === deploymentId);
    if (d) d.traffic = structuredClone(entries);
  }

  copyEnv(): DeployerEnvironment {
    return structuredClone(this.env);
  }

  /** Bounds a deployer call in time; a given signal (already aborted, say) is passed through. */
  async bounded<T>(what: string, fn: (signal: AbortSignal) => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new CheckFailure(`${what} did not settle within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => fn(signal ?? controller.signal)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  invoke(verb: BenchVerb, env: DeployerEnvironment, target: string, signal?: AbortSignal): Promise<unknown> {
    const copy = structuredClone(env);
    const d = this.deployer;
    return this.bounded(
      `${verb} ${target}`,
      (s) => {
        const opts = { signal: s };
        switch (verb) {
          case 'stage':
            this.releases.revived(this.deploymentOf(target), target);
            return d.stageRevision(copy, target, opts);
          case 'warm':
            return d.warmRevision(copy, target, opts);
          case 'drain':
            return d.drainRevision(copy, target, opts);
          case 'archive':
            return archiveWithRouting(d, copy, this.deploymentOf(target), target, opts, this.releases).then(() => ({}));
          case 'split':
            return d.applyTrafficSplit(copy, target, opts);
        }
      },
      signal,
    );
  }

  /** A call whose rejection is data (timeouts still fail the check). */
  async attempt(
    verb: BenchVerb,
    target: string,
    opts: { env?: DeployerEnvironment; signal?: AbortSignal } = {},
  ): Promise<Attempt> {
    try {
      return { ok: true, value: await this.invoke(verb, opts.env ?? this.env, target, opts.signal) };
    } catch (e) {
      if (e instanceof CheckFailure) throw e;
      return { ok: false, error: e };
    }
  }

  /** A call that must succeed; on success the outcome is recorded as the engine would. */
  async run<T = unknown>(verb: BenchVerb, target: string, env: DeployerEnvironment = this.copyEnv()): Promise<Call<T>> {
    let result: unknown;
    try {
      result = await this.invoke(verb, env, target);
    } catch (e) {
      if (e instanceof CheckFailure) throw e;
      throw new CheckFailure(`${verb} ${target} rejected: ${describeError(e)}`);
    }
    this.record(verb, target, result);
    return { verb, target, env, result: result as T };
  }

  /** Like `run`, but a rejection is returned as data (and nothing is recorded). */
  async tryRun(verb: BenchVerb, target: string): Promise<Attempt> {
    const a = await this.attempt(verb, target);
    if (a.ok) this.record(verb, target, a.value);
    return a;
  }

  /** Repeats a call with the identical environment; it must succeed again. */
  async repeat(call: Call): Promise<unknown> {
    try {
      return await this.invoke(call.verb, call.env, call.target);
    } catch (e) {
      if (e instanceof CheckFailure) throw e;
      throw new CheckFailure(
        `second identical ${call.verb} ${call.target} rejected: ${describeError(e)}`,
        'success',
        describeError(e),
      );
    }
  }

  stage(id: string): Promise<Call> {
    return this.run('stage', id);
  }
  warm(id: string): Promise<Call<{ endpoint?: string }>> {
    return this.run('warm', id);
  }
  drain(id: string): Promise<Call> {
    return this.run('drain', id);
  }
  archive(id: string): Promise<Call> {
    return this.run('archive', id);
  }

  async stageAndWarm(...ids: string[]): Promise<void> {
    for (const id of ids) {
      await this.stage(id);
      await this.warm(id);
    }
  }

  split(deploymentId: string, entries: SplitEntry[]): Promise<Call> {
    this.setTraffic(deploymentId, entries);
    return this.run('split', deploymentId);
  }

  async observe(env: DeployerEnvironment = this.env): Promise<Snapshot> {
    let obs: unknown;
    try {
      obs = await this.bounded('observe', (s) => this.deployer.observe(structuredClone(env), { signal: s }));
    } catch (e) {
      if (e instanceof CheckFailure) throw e;
      throw new CheckFailure(`observe rejected: ${describeError(e)}`);
    }
    const problem = observationProblem(obs);
    if (problem) throw new CheckFailure(problem);
    return snapshotOf(obs as Observation, this.ids.prefix);
  }

  private record(verb: BenchVerb, target: string, result: unknown): void {
    const out = (result ?? {}) as { outputs?: Record<string, unknown>; endpoint?: unknown };
    if (verb === 'split') {
      const d = this.env.deployments.find((x) => x.deployment_id === target);
      this.enforced.set(target, structuredClone(d?.traffic ?? []));
      return;
    }
    const r = this.revision(target);
    if (out.outputs && typeof out.outputs === 'object') r.outputs = { ...r.outputs, ...out.outputs };
    if (verb === 'stage') r.lifecycle = 'staged';
    if (verb === 'warm') {
      r.lifecycle = 'ready';
      if (typeof out.endpoint === 'string') r.endpoint = out.endpoint;
    }
    if (verb === 'drain') r.lifecycle = 'inactive';
    if (verb === 'archive') {
      r.lifecycle = 'archived';
      r.state = 'archived';
      r.endpoint = null;
    }
  }

  /** Recorded state as bp would hold it after the calls so far (for the runtime-config projection). */
  recordedState(): RecordedState {
    const at = new Date(0).toISOString();
    const state: RecordedState = {
      format_version: STATE_FORMAT,
      environment_id: this.env.environment_id,
      lineage: '00000000-0000-4000-8000-000000000000',
      serial: 1,
      deployers: structuredClone(this.env.deployers),
      deployments: {},
      revisions: {},
      pending: {},
      updated_at: at,
    };
    for (const d of this.env.deployments) {
      state.deployments[d.deployment_id] = {
        deployment_id: d.deployment_id,
        deployer: d.deployer,
        listen: d.listen,
        split: structuredClone(this.enforced.get(d.deployment_id) ?? []),
      };
      for (const r of d.revisions) {
        state.revisions[r.revision_id] = {
          revision_id: r.revision_id,
          deployment_id: d.deployment_id,
          lifecycle: r.lifecycle,
          spec: { artifact: r.artifact, resources: r.resources, health: r.health },
          drain_seconds: r.drain_seconds,
          ttl: r.ttl,
          staged_at: r.lifecycle === 'inactive' ? null : at,
          updated_at: at,
          outputs: r.outputs,
          endpoint: r.endpoint,
          last_error: null,
        };
      }
    }
    return state;
  }

  /** The environment `bp destroy` would hand over: nothing routed, everything to be archived. */
  teardownEnv(deploymentIds?: string[]): DeployerEnvironment {
    const env = this.copyEnv();
    for (const d of env.deployments) {
      if (deploymentIds && !deploymentIds.includes(d.deployment_id)) continue;
      d.traffic = [];
      for (const r of d.revisions) r.state = 'archived';
    }
    return env;
  }

  /**
   * Archives everything of the fixture through the deployer, then reports what `observe` still
   * shows: those are resources the deployer leaked and that the operator must remove by hand.
   */
  async cleanup(checkName: string): Promise<string[]> {
    const env = this.teardownEnv();
    const failures = new Map<string, string>();
    for (const d of env.deployments) {
      for (const r of d.revisions) {
        try {
          await this.invoke('archive', env, r.revision_id);
        } catch (e) {
          failures.set(r.revision_id, describeError(e));
        }
      }
    }
    let snap: Snapshot;
    try {
      snap = await this.observe(env);
    } catch (e) {
      return [`${checkName}: could not observe after cleanup: ${describeError(e)}`];
    }
    const leaks: string[] = [];
    const declared = new Set(env.deployments.flatMap((d) => d.revisions.map((r) => r.revision_id)));
    for (const [id, status] of Object.entries(snap.revisions)) {
      const why =
        failures.get(id) ??
        (declared.has(id) ? 'archive succeeded' : 'not in the environment, so bp cannot archive it');
      leaks.push(`${checkName}: revision ${id} still observed ${status} after cleanup (${why})`);
    }
    for (const [dep, weights] of Object.entries(snap.splits)) {
      leaks.push(
        `${checkName}: deployment ${dep} still routes ${canonicalJson(weights)} after all its revisions were archived`,
      );
    }
    return leaks;
  }
}
