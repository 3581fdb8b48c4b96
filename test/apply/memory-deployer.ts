/**
 * In-process test doubles for the executor: an in-memory deployer whose verbs a test can hold
 * open and release (gates, not sleeps), an in-memory state session, and one trace both write
 * to, so a test can check what happened in which order.
 */
import type { DeployerSet } from '../../src/apply/deployer-set.js';
import type { Deployer, DeployerEnvironment, VerbOptions } from '../../src/model/deployer.js';
import {
  ENVIRONMENT_SCHEMA,
  REVISION_DEFAULTS,
  type Deployment,
  type Environment,
  type Revision,
} from '../../src/model/environment.js';
import { ProviderError } from '../../src/model/errors.js';
import { emptyState, type Mutation, type RecordedState } from '../../src/model/state.js';
import type { StateSession } from '../../src/state/backend.js';

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once `cond` holds, checking after every macrotask (no timers). */
export async function until(cond: () => boolean, what: string, maxTurns = 10_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting until ${what}`);
}

export type Behaviour = (call: Call) => Promise<unknown> | unknown;

export interface Call {
  verb: string;
  target: string;
  signal: AbortSignal;
  attempt: number;
}

/**
 * A deployer that keeps nothing but a trace. `on[verb:target]` overrides what a call does
 * (fail, wait on a gate, watch its signal); by default every verb succeeds at once.
 */
export class MemoryDeployer implements Deployer {
  readonly on = new Map<string, Behaviour>();
  readonly calls: Call[] = [];
  running = 0;
  peak = 0;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly trace: string[]) {}

  private async call(verb: string, target: string, opts: VerbOptions): Promise<unknown> {
    const key = `${verb}:${target}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const call = { verb, target, signal: opts.signal, attempt };
    this.calls.push(call);
    this.trace.push(`call ${key}`);
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      // One macrotask turn, so calls that could overlap do overlap.
      await new Promise((r) => setImmediate(r));
      const out = await this.on.get(key)?.(call);
      this.trace.push(`return ${key}`);
      return out;
    } finally {
      this.running--;
    }
  }

  async stageRevision(_env: DeployerEnvironment, id: string, opts: VerbOptions) {
    await this.call('stage', id, opts);
    return {};
  }
  async warmRevision(_env: DeployerEnvironment, id: string, opts: VerbOptions) {
    await this.call('warm', id, opts);
    return { endpoint: `mem://${id}` };
  }
  async drainRevision(_env: DeployerEnvironment, id: string, opts: VerbOptions) {
    return this.call('drain', id, opts);
  }
  async archiveRevision(_env: DeployerEnvironment, id: string, opts: VerbOptions) {
    return this.call('archive', id, opts);
  }
  async releaseRouting(_env: DeployerEnvironment, deploymentId: string, opts: VerbOptions) {
    return this.call('release', deploymentId, opts);
  }
  async applyTrafficSplit(env: DeployerEnvironment, deploymentId: string, opts: VerbOptions) {
    await this.call('split', deploymentId, opts);
    const d = env.deployments.find((x) => x.deployment_id === deploymentId)!;
    return { applied_deployment_id: deploymentId, applied_entries: d.traffic };
  }
  async observe() {
    return { revisions: {}, splits: {} };
  }
}

export const failWith =
  (message: string, retryable = false): Behaviour =>
  () => {
    throw new ProviderError(message, { retryable });
  };

/** Waits for the call's signal to abort, then rejects like a well-behaved deployer. */
export const untilAborted: Behaviour = (call) =>
  new Promise((_, reject) => {
    if (call.signal.aborted) reject(new Error('aborted before start'));
    call.signal.addEventListener('abort', () => reject(Object.assign(new Error('stopped'), { code: 'Aborted' })), {
      once: true,
    });
  });

/** A state session in memory: every record lands in the trace (and may be held open by a gate). */
export class MemorySession implements StateSession {
  readonly lock = { id: 'lock-1', pid: process.pid, host: 'test', user: 'test', operation: 'apply', created: '' };
  readonly state: RecordedState | null = null;
  readonly records: Mutation[][] = [];
  /** When set, each record waits for it (durability that takes time). */
  slowRecord: (() => Promise<void>) | null = null;

  constructor(private readonly trace: string[]) {}

  async begin(): Promise<void> {}
  async record(mutations: Mutation[]): Promise<void> {
    if (this.slowRecord) await this.slowRecord();
    this.records.push(mutations);
    for (const m of mutations) {
      if (m.kind === 'pending') this.trace.push(`intent ${m.op.step_id}`);
      if (m.kind === 'pending_done') this.trace.push(`outcome ${m.step_id}`);
      if (m.kind === 'revision') this.trace.push(`revision ${m.revision.revision_id}=${m.revision.lifecycle}`);
    }
  }
  async checkpoint(): Promise<void> {}
  async release(): Promise<void> {}
}

export function memoryDeployerSet(deployer: Deployer): DeployerSet {
  return { get: async () => deployer, close: async () => undefined } as unknown as DeployerSet;
}

export function revision(id: string): Revision {
  return {
    revision_id: id,
    artifact: { command: ['node', 'server.js'], env: {} },
    resources: { ...REVISION_DEFAULTS.resources },
    health: { ...REVISION_DEFAULTS.health },
    drain_seconds: 0,
    ttl: null,
    state: 'ready',
  };
}

/** An environment of deployments on the one `mem` deployer, each revision taking an equal-ish share. */
export function environment(deployments: Record<string, string[]>): Environment {
  const list: Deployment[] = Object.entries(deployments).map(([id, revs]) => ({
    deployment_id: id,
    deployer: 'mem',
    listen: null,
    metrics_listen: null,
    revisions: revs.map(revision),
    traffic: revs.map((r, i) => ({
      revision_id: r,
      weight_bps:
        i === 0 ? 10000 - Math.floor(10000 / revs.length) * (revs.length - 1) : Math.floor(10000 / revs.length),
    })),
    rollout: null,
  }));
  return {
    schema: ENVIRONMENT_SCHEMA,
    environment_id: 'demo',
    deployers: { mem: { type: 'mem', config: {} } },
    deployments: list,
    notifications: [],
  };
}

export function freshState(): RecordedState {
  return emptyState('demo', 'lineage-1', new Date(0));
}
