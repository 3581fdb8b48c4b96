/**
 * Random planner inputs for the property tests: a desired environment that spec validation
 * would accept (weights sum to 10000 over ready revisions, no revival of archived revisions,
 * immutable specs kept) and a recorded state bp could have reached (only ready or failed
 * revisions carry enforced traffic), plus an optional observation with drift.
 */
import fc from 'fast-check';
import type { Observation } from '../../src/model/deployer.js';
import { parseDurationMs, type DesiredState, type Environment, type SplitEntry } from '../../src/model/environment.js';
import { LIFECYCLE_STATES, type LifecycleState, type RecordedState } from '../../src/model/state.js';
import { dep, env, LINEAGE, NOW, rev } from './builders.js';

const likely = fc.integer({ min: 0, max: 9 }).map((n) => n < 8);
const rarely = fc.integer({ min: 0, max: 9 }).map((n) => n < 1);

const revisionSeed = fc.record({
  recordedAs: fc.constantFrom<LifecycleState | 'none'>('none', ...LIFECYCLE_STATES),
  declared: likely,
  desiredState: fc.constantFrom<DesiredState>('ready', 'ready', 'inactive', 'archived'),
  ttl: fc.constantFrom<string | null>(null, null, '1h', '30d'),
  stagedHoursAgo: fc.integer({ min: 0, max: 48 }),
  recordedWeight: fc.nat(4),
  desiredWeight: fc.nat(4),
  observed: fc.constantFrom('ok', 'ok', 'missing', 'absent', 'unhealthy'),
});

const deploymentSeed = fc.record({
  declared: likely,
  listenChanged: rarely,
  splitDrift: rarely,
  revisions: fc.array(revisionSeed, { minLength: 1, maxLength: 4 }),
});

export const scenarioSeed = fc.record({
  deployments: fc.array(deploymentSeed, { minLength: 1, maxLength: 3 }),
  destroy: rarely,
  observe: fc.boolean(),
  stray: rarely,
});
export type ScenarioSeed = typeof scenarioSeed extends fc.Arbitrary<infer T> ? T : never;

export interface Scenario {
  desired: Environment;
  recorded: RecordedState;
  observed: Observation | null;
  destroy: boolean;
}

/** Splits 10000 bps over `ids` in proportion to `parts` (all-zero parts: everything to the first). */
function weights(ids: string[], parts: number[]): SplitEntry[] {
  if (ids.length === 0) return [];
  const total = parts.reduce((a, b) => a + b, 0);
  const shares = total === 0 ? ids.map((_, i) => (i === 0 ? 1 : 0)) : parts;
  const sum = total === 0 ? 1 : total;
  const out = ids.map((id, i) => ({ revision_id: id, weight_bps: Math.floor((shares[i] * 10000) / sum) }));
  const rest = 10000 - out.reduce((a, e) => a + e.weight_bps, 0);
  out[shares.findIndex((x) => x > 0)].weight_bps += rest;
  return out;
}

/**
 * `chaos` lifts the validity constraints (archived revisions declared ready, enforced traffic
 * on any lifecycle): the planner must then still either plan a valid DAG or throw PlanError.
 */
export function buildScenario(seed: ScenarioSeed, o: { chaos?: boolean } = {}): Scenario {
  const state: RecordedState = {
    format_version: 'bp.state/v1',
    environment_id: 'demo',
    lineage: LINEAGE,
    serial: 7,
    deployers: { local: { type: 'local-process', config: {} } },
    deployments: {},
    revisions: {},
    pending: {},
    updated_at: NOW.toISOString(),
  };
  const observed: Observation = { revisions: {}, splits: {} };
  const deployments = [];
  for (const [di, d] of seed.deployments.entries()) {
    const deploymentId = `d${di}`;
    const listen = `127.0.0.1:${8080 + di}`;
    const revisions = [];
    const carriers: Array<{ id: string; w: number }> = [];
    const ready: Array<{ id: string; w: number }> = [];
    for (const [ri, r] of d.revisions.entries()) {
      const id = `${deploymentId}-r${ri}`;
      const lifecycle = r.recordedAs;
      if (lifecycle !== 'none') {
        const base = rev(id, { ttl: r.ttl });
        const staged = lifecycle !== 'inactive' || r.stagedHoursAgo % 2 === 0;
        state.revisions[id] = {
          revision_id: id,
          deployment_id: deploymentId,
          lifecycle,
          spec: staged ? { artifact: base.artifact, resources: base.resources, health: base.health } : null,
          drain_seconds: base.drain_seconds,
          ttl: r.ttl,
          staged_at: staged ? new Date(NOW.getTime() - r.stagedHoursAgo * 3600_000).toISOString() : null,
          updated_at: NOW.toISOString(),
          outputs: {},
          endpoint: lifecycle === 'ready' ? `http://${id}` : null,
          last_error: lifecycle === 'failed' ? 'earlier failure' : null,
        };
        if (o.chaos || lifecycle === 'ready' || lifecycle === 'failed') carriers.push({ id, w: r.recordedWeight });
        if (lifecycle === 'ready') {
          const o = r.observed;
          if (o !== 'absent') observed.revisions[id] = { present: o !== 'missing', healthy: o === 'ok' };
        }
      }
      if (!d.declared || !r.declared) continue;
      // An archived revision can only be declared archived: reviving it is a plan error.
      const state_: DesiredState = lifecycle === 'archived' && !o.chaos ? 'archived' : r.desiredState;
      revisions.push(rev(id, { ttl: r.ttl, state: state_ }));
      if (state_ === 'ready') ready.push({ id, w: r.desiredWeight });
    }
    const hasRecorded = Object.values(state.revisions).some((x) => x.deployment_id === deploymentId);
    if (hasRecorded) {
      const split = weights(
        carriers.map((c) => c.id),
        carriers.map((c) => c.w),
      );
      state.deployments[deploymentId] = {
        deployment_id: deploymentId,
        deployer: 'local',
        listen: d.listenChanged ? '127.0.0.1:1' : listen,
        split,
      };
      observed.splits[deploymentId] =
        d.splitDrift && split.length > 0
          ? weights([split[0].revision_id], [1]).concat(
              split.slice(1).map((e) => ({ revision_id: e.revision_id, weight_bps: 0 })),
            )
          : split;
    }
    if (d.declared) {
      // Zero-weight entries for inactive revisions keep them listed, as operators often do.
      const traffic =
        ready.length === 0
          ? []
          : weights(
              ready.map((x) => x.id),
              ready.map((x) => x.w),
            );
      deployments.push(dep(deploymentId, revisions, traffic, { listen }));
    }
  }
  if (seed.stray) observed.revisions['stray'] = { present: true, healthy: true };
  return {
    desired: env(deployments),
    recorded: state,
    observed: seed.observe ? observed : null,
    destroy: seed.destroy,
  };
}

/** Deployments the plan tears down, computed independently of the planner. */
export function teardownSet(desired: Environment, recorded: RecordedState, destroy: boolean): Set<string> {
  const out = new Set<string>();
  for (const id of Object.keys(recorded.deployments)) out.add(id);
  for (const r of Object.values(recorded.revisions)) out.add(r.deployment_id);
  for (const d of desired.deployments) {
    const wantsReady = d.revisions.some((r) => r.state === 'ready');
    if (!destroy && (d.traffic.length > 0 || wantsReady)) out.delete(d.deployment_id);
  }
  return out;
}

/** Whether a declared revision's TTL (the file's, which wins) has passed. */
function expired(state: RecordedState, revisionId: string, ttl: string | null, now: Date): boolean {
  const rec = state.revisions[revisionId];
  if (!rec?.staged_at || ttl === null) return false;
  return now.getTime() >= Date.parse(rec.staged_at) + parseDurationMs(ttl)!;
}

/** Everything by which `state` differs from what `desired` asks for; empty when converged. */
export function unmetDesires(desired: Environment, state: RecordedState, destroy: boolean, now: Date): string[] {
  const out: string[] = [];
  const declared = new Map(
    desired.deployments.flatMap((d) => d.revisions.map((r) => [r.revision_id, { d, r }] as const)),
  );
  for (const rec of Object.values(state.revisions)) {
    const hit = declared.get(rec.revision_id);
    const want = destroy || !hit ? 'archived' : hit.r.state;
    const ok =
      want === 'ready'
        ? rec.lifecycle === 'ready' ||
          (rec.lifecycle === 'archived' && expired(state, rec.revision_id, hit!.r.ttl, now))
        : want === 'inactive'
          ? ['inactive', 'staged', 'failed'].includes(rec.lifecycle) ||
            (rec.lifecycle === 'archived' && expired(state, rec.revision_id, hit!.r.ttl, now))
          : rec.lifecycle === 'archived';
    if (!ok) out.push(`${rec.revision_id} is ${rec.lifecycle}, wanted ${want}`);
  }
  // A deployment taken down entirely routes nothing any more.
  for (const [id, d] of Object.entries(state.deployments)) {
    const gone = destroy || !desired.deployments.some((x) => x.deployment_id === id);
    if (gone && d.split.length > 0) out.push(`split of removed ${id} is still ${JSON.stringify(d.split)}`);
  }
  for (const d of destroy ? [] : desired.deployments) {
    for (const r of d.revisions) {
      if (r.state === 'ready' && !state.revisions[r.revision_id]) out.push(`${r.revision_id} never created`);
    }
    if (d.traffic.length === 0) continue;
    const enforced = state.deployments[d.deployment_id];
    if (JSON.stringify(enforced?.split) !== JSON.stringify(d.traffic)) {
      out.push(`split of ${d.deployment_id} is ${JSON.stringify(enforced?.split)}`);
    }
    if (enforced?.listen !== d.listen) out.push(`listen of ${d.deployment_id} is ${enforced?.listen}`);
  }
  if (Object.keys(state.pending).length > 0) out.push(`pending left: ${Object.keys(state.pending).join(', ')}`);
  return out;
}
